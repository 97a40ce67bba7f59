import type { Config } from '../config/schema';

/**
 * The one builder of absolute URLs to Portcullis itself (REST Location, the
 * SAML Issuer, OpenAPI `servers`, the WebAuthn relying party). They come from
 * `server.publicUrl`, or the listening address when it is unset, never from a
 * request's Host or X-Forwarded-Host: a forged header must not put another site's name in a
 * Location header or an assertion.
 */
export class PublicUrl {
  private base: string;
  private readonly configured: boolean;

  constructor(server: Pick<Config['server'], 'publicUrl' | 'host' | 'port'>) {
    this.configured = server.publicUrl !== undefined;
    this.base = server.publicUrl !== undefined ? server.publicUrl.replace(/\/+$/, '') : listeningUrl(server.host, server.port);
  }

  /** Once listening: without a configured publicUrl, the real address (port 0 picks one at listen time). */
  listeningAt(url: string): void {
    if (!this.configured) this.base = url.replace(/\/+$/, '');
  }

  /** `path` (starting with "/") under the public base URL. */
  to(path: string): string {
    return `${this.base}${path}`;
  }

  /** The public base URL's host name (the SAML assertion's Issuer, the WebAuthn relying party ID). */
  hostname(): string {
    return new URL(this.base).hostname;
  }

  /** The public base URL's origin (scheme, host, port: what browsers report to WebAuthn). */
  origin(): string {
    return new URL(this.base).origin;
  }
}

/** Where a server bound to `host:port` is reached from this machine. */
export function listeningUrl(host: string, port: number): string {
  const name = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `https://${name}:${port}`;
}
