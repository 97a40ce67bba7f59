// Checks of the test servers through the Node libraries the app uses (run by verify.sh when
// node_modules is installed). One check per process, because libkrb5 reads KRB5_CONFIG once.
//   node node-checks.cjs spnego EXPECTED_PRINCIPAL   (env: KRB5_CONFIG, KRB5CCNAME, KRB5_KTNAME)
//   node node-checks.cjs ldaps URL CA_FILE BIND_DN PASSWORD   -> exit 0 if the bind works
//   node node-checks.cjs pg URL
'use strict';
const fs = require('fs');

async function spnego(expected) {
  const kerberos = require('kerberos');
  const client = await kerberos.initializeClient('HTTP@localhost', { mechOID: kerberos.GSS_MECH_OID_SPNEGO });
  const server = await kerberos.initializeServer('HTTP@localhost');
  const token = await client.step('');
  const reply = await server.step(token);
  if (reply) await client.step(reply);
  if (server.username !== expected) throw new Error(`SPNEGO user ${server.username}, expected ${expected}`);
  return `SPNEGO accepted ${server.username}`;
}

// ldapts keeps the server's diagnostic message in the error ("... data 533, v4563"), which is
// how Active Directory tells disabled / expired / must-change accounts apart.
async function ldaps(url, caFile, dn, password) {
  const { Client } = require('ldapts');
  const client = new Client({ url, tlsOptions: { ca: [fs.readFileSync(caFile)] }, connectTimeout: 5000, timeout: 5000 });
  try {
    await client.bind(dn, password);
    return `bound as ${dn}`;
  } finally {
    await client.unbind().catch(() => undefined);
  }
}

async function pg(url) {
  const { Client } = require('pg');
  const c = new Client({ connectionString: url });
  await c.connect();
  const r = await c.query('select current_user as u');
  await c.end();
  return `connected as ${r.rows[0].u}`;
}

const [mode, ...args] = process.argv.slice(2);
const run = { spnego, ldaps, pg }[mode];
if (!run) {
  console.error('usage: node-checks.cjs spnego|ldaps|pg ...');
  process.exit(2);
}
run(...args).then(
  (msg) => { console.log(msg); process.exit(0); },
  (err) => { console.log(`ERROR ${err && err.message ? err.message : err}`); process.exit(1); },
);
