import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import { expressServerClasses } from '../../src/http/express-server';

interface Observed {
  bornWithAppPrototypes: boolean;
}

/** Serves `app` on loopback; a listener added before the app records the prototypes requests are born with. */
async function serve(app: Express, classes: boolean): Promise<{ url: string; observed: Observed[]; close: () => Promise<void> }> {
  const server = classes ? http.createServer(expressServerClasses(app)) : http.createServer();
  const observed: Observed[] = [];
  server.on('request', (req, res) => observed.push({ bornWithAppPrototypes: Object.getPrototypeOf(req) === app.request && Object.getPrototypeOf(res) === app.response }));
  server.on('request', app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    observed,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function sampleApp(): Express {
  const app = express();
  app.set('query parser', 'simple');
  app.get('/echo', (req, res) => {
    res.locals.seen = req.get('x-probe');
    res.status(201).set('X-Answer', String(res.locals.seen)).json({ probe: req.get('x-probe'), q: req.query.q, ip: req.ip, path: req.path });
  });
  // A mounted sub-app re-prototypes requests for its own routes and restores them after.
  const sub = express();
  sub.get('/inner', (req, res) => res.type('text/plain').send(`${req.baseUrl}${req.path}`));
  app.use('/sub', sub);
  return app;
}

describe('expressServerClasses', () => {
  it('makes the server create requests and responses that already have the app prototypes (without it they do not)', async () => {
    const tuned = await serve(sampleApp(), true);
    const plain = await serve(sampleApp(), false);
    try {
      await fetch(`${tuned.url}/echo`);
      await fetch(`${plain.url}/echo`);
      expect(tuned.observed).toEqual([{ bornWithAppPrototypes: true }]);
      expect(plain.observed).toEqual([{ bornWithAppPrototypes: false }]);
    } finally {
      await tuned.close();
      await plain.close();
    }
  });

  it('leaves express behaviour unchanged: request and response helpers, 404s, mounted sub-apps', async () => {
    const tuned = await serve(sampleApp(), true);
    try {
      const echo = await fetch(`${tuned.url}/echo?q=1`, { headers: { 'x-probe': 'abc' } });
      expect(echo.status).toBe(201);
      expect(echo.headers.get('x-answer')).toBe('abc');
      expect(echo.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await echo.json()).toEqual({ probe: 'abc', q: '1', ip: '127.0.0.1', path: '/echo' });
      const inner = await fetch(`${tuned.url}/sub/inner`);
      expect(await inner.text()).toBe('/sub/inner');
      const missing = await fetch(`${tuned.url}/nowhere`);
      expect(missing.status).toBe(404);
      // After the sub-app, the next request on the same app still works with the app's helpers.
      expect((await fetch(`${tuned.url}/echo?q=2`)).status).toBe(201);
    } finally {
      await tuned.close();
    }
  });
});
