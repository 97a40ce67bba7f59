import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readSecretFile } from '../config/load';
import { ConfigError } from '../shared/errors';

/**
 * Encrypts second-factor secrets at rest: AES-256-GCM with a 32-byte key, a
 * random 96-bit IV per secret, and the owning account's id as additional
 * authenticated data (a secret copied to another account's row fails to
 * decrypt). Stored form: `v1.<key id>.<iv>.<tag>.<ciphertext>` (base64url),
 * the key id being the first 8 hex digits of SHA-256(key), so a rotation can
 * tell which rows still carry the old key. Extra keys (mfa.extraKeyFiles) only
 * open: during a rotation across several instances, each one reads secrets
 * sealed with either key, whichever it seals with.
 */
export class SecretBox {
  readonly keyId: string;
  private readonly openers = new Map<string, Buffer>();

  constructor(private readonly key: Buffer, extraKeys: Buffer[] = []) {
    this.keyId = keyIdOf(key);
    for (const extra of [...extraKeys, key]) this.openers.set(keyIdOf(extra), extra);
  }

  seal(plaintext: string, accountId: number): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(`account:${accountId}`));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', this.keyId, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ciphertext.toString('base64url')].join('.');
  }

  open(sealed: string, accountId: number): string {
    const [version, keyId, iv, tag, ciphertext] = sealed.split('.');
    if (version !== 'v1' || ciphertext === undefined) throw new Error('unknown sealed-secret format');
    const key = this.openers.get(keyId);
    if (!key) throw new Error(`secret sealed with MFA key ${keyId}, but the configured keys are ${[...this.openers.keys()].join(', ')}`);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(`account:${accountId}`));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  }
}

function keyIdOf(key: Buffer): string {
  if (key.length !== 32) throw new Error('the MFA key must be 32 bytes');
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

/** A key as written in a key file or PORTCULLIS_MFA_KEY: 64 hex digits or 32 bytes of base64. */
export function parseKey(text: string, where: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) throw new ConfigError([`${where}: the MFA key must be 32 bytes, as 64 hex digits or base64`]);
  return key;
}

export interface KeySource {
  /** mfa.secretKeyFile, if configured. */
  keyFile?: string;
  /** PORTCULLIS_MFA_KEY, if set. */
  envKey?: string;
  /** Where a key is generated when none is configured (data directory). */
  defaultFile: string;
}

/**
 * The MFA key: from PORTCULLIS_MFA_KEY, else mfa.secretKeyFile, else the data
 * directory's mfa.key — generated (mode 0600) only while no factor exists, so
 * a lost key is reported instead of silently replaced (factors sealed with it
 * could no longer be read).
 */
export function loadKey(source: KeySource, factorsExist: boolean): Buffer {
  if (source.envKey) return parseKey(source.envKey, 'environment: PORTCULLIS_MFA_KEY');
  const file = source.keyFile ?? source.defaultFile;
  if (existsSync(file)) return parseKey(readSecretFile(file), file);
  if (factorsExist) {
    throw new ConfigError([`${file}: the MFA key is missing, but second factors are stored; restore the key (mfa.secretKeyFile or PORTCULLIS_MFA_KEY) or reset the factors`]);
  }
  if (source.keyFile) throw new ConfigError([`${file}: mfa.secretKeyFile does not exist`]);
  mkdirSync(path.dirname(file), { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  return key;
}

/** mfa.extraKeyFiles: keys that only open secrets (a rotation in progress); each must exist. */
export function loadExtraKeys(files: readonly string[]): Buffer[] {
  return files.map((file) => {
    if (!existsSync(file)) throw new ConfigError([`${file}: listed in mfa.extraKeyFiles but does not exist`]);
    return parseKey(readSecretFile(file), file);
  });
}

/** Reads a key file for rotation, creating it with a fresh key when it does not exist yet. */
export function readOrCreateKeyFile(file: string): Buffer {
  if (!existsSync(file)) {
    const key = randomBytes(32);
    writeFileSync(file, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    return key;
  }
  return parseKey(readFileSync(file, 'utf8'), file);
}
