import { existsSync } from 'node:fs';
import path from 'node:path';

let cached: string | undefined;

/** The directory holding package.json, whether running from src/ (tests) or dist/src/ (build). */
export function packageRoot(): string {
  if (cached) return cached;
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('package.json not found above ' + __dirname);
    dir = parent;
  }
  cached = dir;
  return dir;
}
