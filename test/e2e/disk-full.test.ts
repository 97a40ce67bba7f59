import { closeSync, mkdirSync, mkdtempSync, openSync, unlinkSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { CLI, ServerProcess, requireBuild } from '../support/process';

/** Appends to `file` until the file system says it is full (ENOSPC). */
function fillUp(file: string): void {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
}

describe('a real full disk under a running SQLite service', () => {
  beforeAll(requireBuild);

  it('answers 503 "disk full" and is not ready while the file system is full; recovers without a restart once there is room', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'portcullis-full-'));
    const dataDir = path.join(root, 'data');
    const configDir = path.join(root, 'config');
    mkdirSync(dataDir);
    mkdirSync(configDir);
    // The data directory is a 16 MiB tmpfs in the service's own mount namespace (a user namespace: no root needed).
    const launcher = ['unshare', '--map-root-user', '--mount', 'sh', '-c', 'mount -t tmpfs -o size=16m tmpfs "$0" && exec "$@"', dataDir];
    const server = new ServerProcess(
      { PORTCULLIS_PORT: '0', PORTCULLIS_HOST: '127.0.0.1', PORTCULLIS_OPS_HOST: '127.0.0.1', PORTCULLIS_OPS_PORT: '0', PORTCULLIS_DATA_DIR: dataDir, PORTCULLIS_CONFIG_DIR: configDir },
      [...launcher, process.execPath, CLI, 'start'],
    );
    try {
      const url = (await server.waitFor(/listening on (https:\/\/127\.0\.0\.1:\d+)/))[1];
      const opsUrl = (await server.waitFor(/health and metrics: (http:\/\/\S+?)\/health\/ready/))[1];
      const filler = path.join('/proc', String(server.child.pid), 'root', dataDir, 'filler');
      const signIn = () => request(url).post('/cas/v1/tickets').trustLocalhost().disableTLSCerts().type('form').send({ username: 'admin', password: 'not-the-password' });
      expect((await request(opsUrl).get('/health/ready')).status).toBe(200);

      fillUp(filler);
      const ready = await request(opsUrl).get('/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body.checks.database.error).toMatch(/^the database cannot be written: disk full/);
      const refused = await signIn();
      expect(refused.status).toBe(503);
      expect(refused.text).toContain('the database cannot be written: disk full');

      unlinkSync(filler);
      expect((await request(opsUrl).get('/health/ready')).status).toBe(200);
      expect((await signIn()).status).toBe(401);
    } finally {
      await server.stop();
    }
  });
});
