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

// ldapjs 3.0.7 drops the server's diagnosticMessage from result errors (getError() still reads
// the v2 name `errorMessage`; upstream issue ldapjs/node-ldapjs#878), so an AD bind failure only
// says "Invalid Credentials" without "data 533/701/773". This patch restores it; the app needs
// the same (or its own handling) to tell disabled/expired/must-change accounts apart.
function patchLdapjsDiagnostics() {
  const errors = require('ldapjs/lib/errors');
  const orig = errors.getError;
  errors.getError = (res) => {
    const e = orig(res);
    if (res && res.diagnosticMessage) e.lde_message = res.diagnosticMessage;
    return e;
  };
}

function ldaps(url, caFile, dn, password) {
  const ldap = require('ldapjs');
  patchLdapjsDiagnostics();
  return new Promise((resolve, reject) => {
    const client = ldap.createClient({ url: [url], tlsOptions: { ca: [fs.readFileSync(caFile)] }, connectTimeout: 5000, timeout: 5000 });
    client.on('error', (e) => reject(e));
    client.bind(dn, password, (err) => {
      client.unbind(() => undefined);
      if (err) reject(err);
      else resolve(`bound as ${dn}`);
    });
  });
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
