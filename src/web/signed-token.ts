import { createHmac, hkdfSync } from 'node:crypto';
import { constantTimeEqual } from '../shared/random';

/**
 * Small HMAC-signed, expiring tokens (`payload.signature`, base64url) for
 * the login form's `execution` field and the forced password-change step.
 * The purpose string keeps one kind of token from being replayed as another.
 */
export class TokenSigner {
  constructor(private readonly key: Buffer) {}

  private mac(purpose: string, payload: string): string {
    return createHmac('sha256', this.key).update(`${purpose}\n${payload}`).digest('base64url');
  }

  /** A 32-byte key of its own for `purpose` (HKDF), so a cipher can ride on this key without reusing it. */
  derivedKey(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.key, Buffer.alloc(0), `portcullis ${purpose}`, 32));
  }

  sign(purpose: string, data: Record<string, unknown>, expiresAt: number): string {
    const payload = Buffer.from(JSON.stringify({ ...data, exp: expiresAt })).toString('base64url');
    return `${payload}.${this.mac(purpose, payload)}`;
  }

  /** The data if the token is genuine and unexpired at `now`; otherwise null. Longer tokens are refused unread. */
  verify(purpose: string, token: string | undefined, now: number, maxLength = 4096): Record<string, unknown> | null {
    if (!token || token.length > maxLength) return null;
    const dot = token.indexOf('.');
    if (dot < 0) return null;
    const payload = token.slice(0, dot);
    if (!constantTimeEqual(token.slice(dot + 1), this.mac(purpose, payload))) return null;
    try {
      const data = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
      return typeof data.exp === 'number' && data.exp > now ? data : null;
    } catch {
      return null;
    }
  }
}
