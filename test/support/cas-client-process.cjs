// A small third-party web application protected by the npm CAS client
// @coursetable/passport-cas, run as its own process (so it trusts the CAS
// server's certificate the ordinary way, through NODE_EXTRA_CA_CERTS).
// One route per protocol version the client supports:
//   /v1 -> /validate, /v2 -> /serviceValidate, /v3 -> /p3/serviceValidate, /saml -> /samlValidate
// Env: CAS_BASE_URL (https://host:port/cas), APP_CERT_FILE, APP_KEY_FILE.
// Prints {"port": N} on stdout once listening.
const { readFileSync } = require('node:fs');
const https = require('node:https');
const express = require('express');
const passport = require('passport');
const { Strategy } = require('@coursetable/passport-cas');

const VERSIONS = { v1: 'CAS1.0', v2: 'CAS2.0', v3: 'CAS3.0', saml: 'CAS3.0-with-saml' };

const app = express();
app.use(passport.initialize());
for (const [route, version] of Object.entries(VERSIONS)) {
  passport.use(route, new Strategy({ version, ssoBaseURL: process.env.CAS_BASE_URL }, (profile, done) => done(null, profile)));
  app.get(`/${route}`, passport.authenticate(route, { session: false }), (req, res) => res.json({ route, user: req.user }));
}
// Errors from the client (e.g. an unparseable answer) are reported, not hidden.
app.use((err, _req, res, _next) => res.status(500).json({ error: String(err && err.cause ? err.cause : err) }));

const server = https.createServer({ cert: readFileSync(process.env.APP_CERT_FILE), key: readFileSync(process.env.APP_KEY_FILE) }, app);
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`));
