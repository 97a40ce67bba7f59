import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';

/**
 * A software WebAuthn authenticator for HTTP-level tests (no browser): an
 * ES256 key pair, "none" attestation, a signature counter the test can set,
 * and the user-verified flag it chooses. Answers are the JSON the browser
 * script posts. Real browsers are exercised in test/browser.
 */

type Cbor = number | string | Buffer | CborMap | { [key: string]: Cbor };
type CborMap = Map<number | string, Cbor>;

/** The few CBOR major types WebAuthn structures use (RFC 8949). */
function cbor(value: Cbor): Buffer {
  const head = (major: number, n: number) => {
    if (n < 24) return Buffer.from([(major << 5) | n]);
    if (n < 256) return Buffer.from([(major << 5) | 24, n]);
    const b = Buffer.alloc(3);
    b[0] = (major << 5) | 25;
    b.writeUInt16BE(n, 1);
    return b;
  };
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === 'string') return Buffer.concat([head(3, Buffer.byteLength(value)), Buffer.from(value)]);
  if (Buffer.isBuffer(value)) return Buffer.concat([head(2, value.length), value]);
  const entries = value instanceof Map ? [...value.entries()] : Object.entries(value);
  return Buffer.concat([head(5, entries.length), ...entries.flatMap(([k, v]) => [cbor(k), cbor(v)])]);
}

const b64 = (b: Buffer) => b.toString('base64url');

export class SoftAuthenticator {
  readonly credentialId = randomBytes(32);
  private readonly keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  counter = 0;
  /** False for an authenticator that keeps no counter (always 0, as many platform authenticators). */
  counts = true;
  userVerified = true;
  userHandle: string | undefined;

  constructor(private readonly origin: string) {}

  /** The same key used from another origin (a phishing site relaying the user). */
  from(origin: string): SoftAuthenticator {
    return Object.assign(new SoftAuthenticator(origin), { credentialId: this.credentialId, keys: this.keys, counter: this.counter, userHandle: this.userHandle });
  }

  get id(): string {
    return b64(this.credentialId);
  }

  private authData(flags: number, extra: Buffer = Buffer.alloc(0)): Buffer {
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(this.counter);
    const rpIdHash = createHash('sha256').update(new URL(this.origin).hostname).digest();
    return Buffer.concat([rpIdHash, Buffer.from([flags | (this.userVerified ? 0x04 : 0)]), counter, extra]);
  }

  private clientData(type: string, challenge: string): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin: this.origin, crossOrigin: false }));
  }

  /** navigator.credentials.create's answer to registration options. */
  register(options: { challenge: string; user: { id: string } }): string {
    this.userHandle = options.user.id;
    const jwk = this.keys.publicKey.export({ format: 'jwk' });
    const cose = cbor(new Map<number, Cbor>([[1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x as string, 'base64url')], [-3, Buffer.from(jwk.y as string, 'base64url')]]));
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(this.credentialId.length);
    const attested = Buffer.concat([Buffer.alloc(16), idLength, this.credentialId, cose]);
    const attestationObject = cbor({ fmt: 'none', attStmt: {}, authData: this.authData(0x41, attested) });
    return JSON.stringify({
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: { clientDataJSON: b64(this.clientData('webauthn.create', options.challenge)), attestationObject: b64(attestationObject), transports: ['internal'] },
      clientExtensionResults: {},
    });
  }

  /** navigator.credentials.get's answer: the counter moves on by one, as authenticators do. */
  assert(options: { challenge: string }): string {
    if (this.counts) this.counter += 1;
    const authData = this.authData(0x01);
    const clientData = this.clientData('webauthn.get', options.challenge);
    const signature = sign('sha256', Buffer.concat([authData, createHash('sha256').update(clientData).digest()]), this.keys.privateKey);
    return JSON.stringify({
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: { clientDataJSON: b64(clientData), authenticatorData: b64(authData), signature: b64(signature), ...(this.userHandle ? { userHandle: this.userHandle } : {}) },
      clientExtensionResults: {},
    });
  }
}
