import { type LoadedConfig, ownerOf } from '../config/load';

/**
 * `portcullis config check --all`: every effective setting, one per line, with
 * the layer it came from (a file, an environment variable, or the built-in
 * default). Secrets are masked; file and variable names are shown as they are.
 */

const SECRET_KEY = /(password|secret|token)$/i;

function mask(key: string, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (SECRET_KEY.test(key)) return '********';
  // A database URL may carry a password in its user info.
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/@]*:[^/@]*@/i.test(value)) return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/:@]*:)[^/@]*@/i, '$1********@');
  return value;
}

function leaves(value: unknown, prefix: string, out: [string, unknown][]): void {
  const isTree = typeof value === 'object' && value !== null && !(Array.isArray(value) && value.every((v) => typeof v !== 'object'));
  if (!isTree || (Array.isArray(value) && value.length === 0) || (!Array.isArray(value) && Object.keys(value).length === 0)) {
    out.push([prefix, value]);
    return;
  }
  for (const [key, child] of Object.entries(value)) leaves(child, prefix ? `${prefix}.${key}` : key, out);
}

export function configReport(loaded: LoadedConfig): string[] {
  const entries: [string, unknown][] = [];
  leaves(loaded.config, '', entries);
  const width = Math.max(...entries.map(([key]) => key.length));
  return entries.map(([key, value]) => {
    const shown = mask(key, value);
    const source = ownerOf(loaded.sources, key.split('.')) ?? 'default';
    return `${key.padEnd(width)}  ${shown === undefined ? '(unset)' : JSON.stringify(shown)}  [${source}]`;
  });
}
