import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../shared/errors';
import { type Config, type ConfigInput, configSchema } from './schema';
import { PRIVATE_CONFIG_KEYS, parsePrivateConfig } from './private-config';
import { preflight } from './preflight';

export const JSON_CONFIG_FILE = 'portcullis.json';
export const PRIVATE_CONFIG_FILE = 'private.config';

/**
 * Environment variables Portcullis reads, and where each lands. Precedence,
 * lowest to highest: built-in defaults < portcullis.json < private.config <
 * environment < overrides passed by code (tests). Unknown PORTCULLIS_*
 * variables are rejected so a typo cannot silently keep a default.
 */
const ENV_KEYS: Record<string, { path: string[]; type: 'int' | 'string' }> = {
  PORTCULLIS_PORT: { path: ['server', 'port'], type: 'int' },
  PORTCULLIS_HOST: { path: ['server', 'host'], type: 'string' },
  PORTCULLIS_PUBLIC_URL: { path: ['server', 'publicUrl'], type: 'string' },
  PORTCULLIS_LOG_LEVEL: { path: ['logging', 'level'], type: 'string' },
  PORTCULLIS_DATABASE_CLIENT: { path: ['database', 'client'], type: 'string' },
  PORTCULLIS_DATABASE_PASSWORD_FILE: { path: ['database', 'passwordFile'], type: 'string' },
  DATABASE_URL: { path: ['database', 'url'], type: 'string' },
  PORTCULLIS_MAX_ALLOWED_LOGIN_FAILURE_COUNT: { path: ['lockout', 'maxAllowedLoginFailureCount'], type: 'int' },
  PORTCULLIS_USER_LOCKOUT_TIMEOUT: { path: ['lockout', 'userLockoutTimeout'], type: 'int' },
  PORTCULLIS_MAX_ADMINISTRATOR_COUNT: { path: ['administrators', 'maxAdministratorCount'], type: 'int' },
  PORTCULLIS_INACTIVE_ACCOUNT_DISABLE_DAYS: { path: ['accounts', 'inactiveAccountDisableDays'], type: 'int' },
  PORTCULLIS_MAX_CONNECTIONS_PER_CLIENT: { path: ['server', 'maxConnectionsPerClient'], type: 'int' },
  PORTCULLIS_OPS_PORT: { path: ['ops', 'port'], type: 'int' },
  PORTCULLIS_OPS_HOST: { path: ['ops', 'host'], type: 'string' },
  PORTCULLIS_MFA_REQUIRE: { path: ['mfa', 'require'], type: 'string' },
  PORTCULLIS_MFA_KEY_FILE: { path: ['mfa', 'secretKeyFile'], type: 'string' },
};
/** Variables read elsewhere (locations and secrets), accepted by the unknown-variable check. */
const OTHER_ENV_KEYS = new Set(['PORTCULLIS_DATA_DIR', 'PORTCULLIS_CONFIG_DIR', 'PORTCULLIS_DATABASE_PASSWORD', 'PORTCULLIS_MFA_KEY']);

export interface LoadOptions {
  configDir?: string;
  dataDir?: string;
  env?: NodeJS.ProcessEnv;
  /** Applied last; used by tests and the CLI. */
  overrides?: ConfigInput;
}

export interface LoadedConfig {
  config: Config;
  configDir: string;
  dataDir: string;
  /** Config files that existed and were read. */
  files: string[];
  /** Where each explicitly set value came from, by dotted path ("lockout.userLockoutTimeout" → file or env name). */
  sources: Record<string, string>;
}

type Tree = Record<string, unknown>;

function isPlainObject(v: unknown): v is Tree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function setPath(target: Tree, keys: readonly string[], value: unknown): void {
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (!isPlainObject(node[key])) node[key] = {};
    node = node[key] as Tree;
  }
  node[keys[keys.length - 1]] = value;
}

interface Layer {
  tree: Tree;
  source: string;
}

function mergeLayer(target: Tree, layer: Tree, source: string, sources: Record<string, string>, prefix = ''): void {
  for (const [key, value] of Object.entries(layer)) {
    const dotted = prefix ? `${prefix}.${key}` : key;
    if (isPlainObject(value)) {
      if (!isPlainObject(target[key])) target[key] = {};
      mergeLayer(target[key] as Tree, value, source, sources, dotted);
    } else {
      target[key] = value;
      sources[dotted] = source;
    }
  }
}

/** Reads a secret file, refusing files other users can read. */
export function readSecretFile(file: string): string {
  const mode = statSync(file).mode;
  if ((mode & 0o004) !== 0) {
    throw new ConfigError([`${file}: secret file is world-readable (mode ${(mode & 0o777).toString(8)}); chmod o-r it`]);
  }
  return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
}

function envLayer(env: NodeJS.ProcessEnv, problems: string[]): { layer: Tree; names: Record<string, string> } {
  const layer: Tree = {};
  const names: Record<string, string> = {};
  for (const [name, raw] of Object.entries(env)) {
    if (raw === undefined) continue;
    const spec = ENV_KEYS[name];
    if (!spec) {
      if (name.startsWith('PORTCULLIS_') && !OTHER_ENV_KEYS.has(name) && !name.startsWith('PORTCULLIS_TEST_')) {
        problems.push(`environment: unknown variable ${name}`);
      }
      continue;
    }
    if (spec.type === 'int') {
      if (!/^\d+$/.test(raw.trim())) {
        problems.push(`environment: ${name} must be a whole number, got "${raw}"`);
        continue;
      }
      setPath(layer, spec.path, Number(raw.trim()));
    } else {
      setPath(layer, spec.path, raw);
    }
    names[spec.path.join('.')] = `env ${name}`;
  }
  // DATABASE_URL implies its client unless one is given explicitly.
  const url = env.DATABASE_URL;
  if (url && !env.PORTCULLIS_DATABASE_CLIENT) {
    if (/^postgres(ql)?:/.test(url)) setPath(layer, ['database', 'client'], 'postgres');
    else if (/^(mssql|sqlserver):/.test(url)) setPath(layer, ['database', 'client'], 'mssql');
  }
  return { layer, names };
}

/** The layer that set a key (or the array holding it), or (objects have no source of their own) anything beneath it. */
function sourceFinder(sources: Record<string, string>, defaultSource: string): (key: string) => string {
  return (key) => ownerOf(sources, key.split('.')) ?? Object.entries(sources).find(([k]) => k.startsWith(`${key}.`))?.[1] ?? defaultSource;
}

type SchemaNode = { _zod: { def: { innerType?: SchemaNode; in?: SchemaNode; shape?: Record<string, SchemaNode> } }; minValue?: number | null; maxValue?: number | null };

/** "allowed: 6–128" for a numeric key, read from the schema itself so the message cannot drift from the rule. */
export function allowedRange(keyPath: readonly string[]): string | null {
  let node: SchemaNode | undefined = configSchema as unknown as SchemaNode;
  for (const key of [...keyPath, null]) {
    while (node && (node._zod.def.innerType || node._zod.def.in)) node = node._zod.def.innerType ?? node._zod.def.in;
    if (key === null || !node) break;
    node = node._zod.def.shape?.[key];
  }
  const min = node?.minValue;
  const max = node?.maxValue;
  if (typeof min !== 'number' || !Number.isFinite(min)) return null;
  return typeof max === 'number' && Number.isFinite(max) && max < Number.MAX_SAFE_INTEGER ? `allowed: ${min}–${max}` : `allowed: ${min} or more`;
}

const PRIVATE_KEY_BY_PATH = new Map(Object.entries(PRIVATE_CONFIG_KEYS).map(([key, keyPath]) => [keyPath.join('.'), key]));

function describeIssue(issue: z.core.$ZodIssue, sources: Record<string, string>, defaultSource: string): string {
  const keyPath = issue.path.map(String).join('.');
  const sourceOf = sourceFinder(sources, defaultSource);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => {
      const full = keyPath ? `${keyPath}.${k}` : k;
      return `${sourceOf(full)}: unknown key "${full}"`;
    }).join('\n');
  }
  const source = sourceOf(keyPath);
  const range = issue.code === 'too_small' || issue.code === 'too_big' ? allowedRange(issue.path.map(String)) : null;
  const message = range ? `${issue.message} (${range})` : issue.message;
  // private.config speaks NEC's key names: report the key the operator wrote.
  const necKey = source.endsWith(PRIVATE_CONFIG_FILE) ? PRIVATE_KEY_BY_PATH.get(keyPath) : undefined;
  return `${source}: ${necKey ?? (keyPath || '(root)')}: ${message}`;
}

/** Layers the raw files and environment into one tree (no validation yet). */
function readLayers(options: LoadOptions, configDir: string, problems: string[]) {
  const sources: Record<string, string> = {};
  const files: string[] = [];
  const merged: Tree = {};
  const layers: Layer[] = [];
  const jsonFile = path.join(configDir, JSON_CONFIG_FILE);
  if (existsSync(jsonFile)) {
    files.push(jsonFile);
    try {
      const parsed: unknown = JSON.parse(readFileSync(jsonFile, 'utf8'));
      if (!isPlainObject(parsed)) problems.push(`${jsonFile}: must contain a JSON object`);
      else {
        mergeLayer(merged, parsed, jsonFile, sources);
        layers.push({ tree: parsed, source: jsonFile });
      }
    } catch (error) {
      problems.push(`${jsonFile}: invalid JSON: ${(error as Error).message}`);
    }
  }
  const privateFile = path.join(configDir, PRIVATE_CONFIG_FILE);
  if (existsSync(privateFile)) {
    files.push(privateFile);
    const { entries, problems: xmlProblems } = parsePrivateConfig(readFileSync(privateFile, 'utf8'), privateFile);
    problems.push(...xmlProblems);
    const layer: Tree = {};
    for (const entry of entries) setPath(layer, entry.path, entry.value);
    mergeLayer(merged, layer, privateFile, sources);
    layers.push({ tree: layer, source: privateFile });
  }
  const env = envLayer(options.env ?? process.env, problems);
  mergeLayer(merged, env.layer, 'environment', sources);
  Object.assign(sources, env.names);
  for (const [key, name] of Object.entries(env.names)) layers.push({ tree: pick(env.layer, key.split('.')), source: name });
  if (options.overrides) mergeLayer(merged, options.overrides as Tree, 'overrides', sources);
  return { merged, sources, files, layers };
}

/** The single value at `keys` of a tree, as a tree of its own. */
function pick(tree: Tree, keys: string[]): Tree {
  const out: Tree = {};
  let value: unknown = tree;
  for (const key of keys) value = isPlainObject(value) ? value[key] : undefined;
  setPath(out, keys, value);
  return out;
}

/**
 * A value a later layer overrides is still checked where it was written:
 * `lockout.maxAllowedLoginFailureCount: -1` in the JSON is an error even when
 * private.config sets the key. Rules between keys (min ≤ max) are judged on
 * the merged result only.
 */
function overriddenValueProblems(layers: Layer[], sources: Record<string, string>): string[] {
  const problems: string[] = [];
  for (const layer of layers) {
    const result = configSchema.safeParse(layer.tree);
    if (result.success) continue;
    for (const issue of result.error.issues) {
      const keys = issue.path.map(String);
      const key = keys.join('.');
      if (issue.code === 'custom' || issue.code === 'unrecognized_keys' || ownerOf(sources, keys) === layer.source || !hasPath(layer.tree, keys)) continue;
      problems.push(`${describeIssue(issue, { [key]: layer.source }, layer.source)} (overridden by ${sources[key] ?? 'a later layer'}, but still wrong)`);
    }
  }
  return problems;
}

/** The layer whose value is in force at `keys` (arrays are set whole, so an element belongs to its array's layer). */
export function ownerOf(sources: Record<string, string>, keys: string[]): string | undefined {
  for (let i = keys.length; i > 0; i--) {
    const source = sources[keys.slice(0, i).join('.')];
    if (source !== undefined) return source;
  }
  return undefined;
}

function hasPath(tree: Tree, keys: string[]): boolean {
  let node: unknown = tree;
  for (const key of keys) {
    if (!isPlainObject(node) || !(key in node)) return false;
    node = node[key];
  }
  return true;
}

/**
 * Loads and validates every config source once. Throws ConfigError listing
 * every problem (file and key named), so one start reports them all.
 */
export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const configDir = path.resolve(options.configDir ?? env.PORTCULLIS_CONFIG_DIR ?? 'config');
  const dataDir = path.resolve(options.dataDir ?? env.PORTCULLIS_DATA_DIR ?? 'data');
  const problems: string[] = [];
  const { merged, sources, files, layers } = readLayers({ ...options, env }, configDir, problems);
  const result = configSchema.safeParse(merged);
  if (!result.success) problems.push(...result.error.issues.map((i) => describeIssue(i, sources, 'config')));
  problems.push(...overriddenValueProblems(layers, sources));
  if (result.success) {
    const sourceOf = sourceFinder(sources, 'config');
    preflight(result.data, (key, message) => problems.push(`${sourceOf(key)}: ${key}: ${message}`), env);
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  return { config: deepFreeze(result.data), configDir, dataDir, files, sources };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
