import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The version in Portcullis's package.json, found upwards from this file:
 * src/shared in a checkout, dist/src/shared when built, the same inside
 * node_modules/portcullis when installed.
 */
function readVersion(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'portcullis' && pkg.version) return pkg.version;
    }
    if (path.dirname(dir) === dir) return 'unknown';
  }
}

export const VERSION = readVersion();
