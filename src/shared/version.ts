import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from './package-root';

function readVersion(): string {
  try {
    return (JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

/** The Portcullis release (package.json): `--version`, the startup banner, GET /api/v1/version, OpenAPI and /metrics. */
export const VERSION = readVersion();
