/**
 * A reference point for the SSO figures, not a product: the least an express
 * app can do for the same round trip — read the session named by the TGC,
 * insert a service ticket, redirect; then delete-and-return the ticket and
 * answer CAS XML — on SQLite in WAL mode like Portcullis, with no policy,
 * logging, metrics, registry lookup or single-logout record. Its ratio to
 * the bare route shows how much of the target one Node process can reach
 * on the machine at hand. Run as `node -e` (see startScriptServer in sso.ts).
 */
export function minimalSsoAppScript(options: { certFile: string; keyFile: string; minVersion: string; dbFile: string; tgcs: string[]; principal: string }): string {
  return `
    const express = require('express'); const https = require('node:https'); const fs = require('node:fs');
    const { randomBytes } = require('node:crypto'); const Database = require('better-sqlite3');
    const db = new Database(${JSON.stringify(options.dbFile)});
    db.pragma('journal_mode = WAL'); db.pragma('synchronous = NORMAL');
    db.exec('create table sessions (id text primary key, principal text not null); create table tickets (id text primary key, principal text not null, service text not null, expires_at integer not null); create index tickets_expires on tickets (expires_at)');
    const addSession = db.prepare('insert into sessions values (?, ?)');
    for (const tgc of ${JSON.stringify(options.tgcs)}) addSession.run(tgc, ${JSON.stringify(options.principal)});
    const findSession = db.prepare('select principal from sessions where id = ?');
    const addTicket = db.prepare('insert into tickets values (?, ?, ?, ?)');
    const takeTicket = db.prepare('delete from tickets where id = ? returning principal, service, expires_at');
    const app = express(); app.disable('x-powered-by'); app.set('etag', false);
    app.get('/cas/login', (req, res) => {
      const tgc = /(?:^|; )TGC=([^;]+)/.exec(req.get('cookie') || '');
      const session = tgc ? findSession.get(tgc[1]) : undefined;
      if (!session) return res.status(401).end();
      const ticket = 'ST-' + randomBytes(32).toString('hex');
      addTicket.run(ticket, session.principal, req.query.service, Date.now() + 10000);
      res.status(302).location(req.query.service + '?ticket=' + ticket).end();
    });
    app.get('/cas/p3/serviceValidate', (req, res) => {
      const row = takeTicket.get(req.query.ticket);
      const ok = row && row.service === req.query.service && row.expires_at > Date.now();
      res.type('application/xml; charset=utf-8').send(ok
        ? '<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationSuccess><cas:user>' + row.principal + '</cas:user></cas:authenticationSuccess></cas:serviceResponse>'
        : '<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationFailure code="INVALID_TICKET"/></cas:serviceResponse>');
    });
    const server = https.createServer({ cert: fs.readFileSync(${JSON.stringify(options.certFile)}), key: fs.readFileSync(${JSON.stringify(options.keyFile)}), minVersion: ${JSON.stringify(options.minVersion)} }, app);
    server.keepAliveTimeout = 65000;
    server.listen(0, '127.0.0.1', () => process.stdout.write('port ' + server.address().port + '\\n'));`;
}
