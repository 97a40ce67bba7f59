/**
 * Service URL matching.
 *
 * A registered service URL is either an exact URL, compared character for
 * character, or a pattern (any value containing `*`):
 *
 *   - scheme and authority (host and port) are always literal: wildcards are
 *     allowed only after the `/` that ends the authority, so
 *     `https://app.example.org/**` can never match `https://app.example.org.evil.test/`;
 *   - `*`  matches any run of characters except `/`, `?` and `#` (part of one path segment);
 *   - `**` matches any run of characters except `#` (across segments and into the query);
 *   - every other character is literal, and the whole URL must match (anchored at both ends).
 *
 * Candidate service URLs must be absolute http(s) URLs without credentials,
 * whitespace, control characters or backslashes, so what is matched is what a
 * browser will be redirected to.
 */

export const MAX_URL_LENGTH = 4096;

// eslint-disable-next-line no-control-regex -- rejecting control characters is the point
const FORBIDDEN_URL_CHARS = /[\u0000-\u0020\u007f-\u009f\\]/;

export type UrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

/** Whether `value` is an absolute http(s) URL we are willing to redirect a browser to. */
export function checkServiceUrl(value: string, options: { httpsOnly?: boolean } = {}): UrlCheck {
  if (value.length === 0) return { ok: false, reason: 'is empty' };
  if (value.length > MAX_URL_LENGTH) return { ok: false, reason: `is longer than ${MAX_URL_LENGTH} characters` };
  if (FORBIDDEN_URL_CHARS.test(value)) return { ok: false, reason: 'contains whitespace, control characters or a backslash' };
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1]?.toLowerCase();
  const allowed = options.httpsOnly ? ['https'] : ['http', 'https'];
  if (!scheme || !allowed.includes(scheme)) return { ok: false, reason: `must be an absolute ${allowed.join(' or ')} URL` };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { ok: false, reason: 'is not a valid URL' };
  }
  if (url.username || url.password) return { ok: false, reason: 'must not contain a user name or password' };
  if (!url.hostname) return { ok: false, reason: 'has no host' };
  return { ok: true, url };
}

export function isPattern(serviceUrl: string): boolean {
  return serviceUrl.includes('*');
}

/** Checks a pattern (or exact URL) at registration; returns the reason it is unusable, or null. */
export function patternProblem(pattern: string, options: { httpsOnly?: boolean } = {}): string | null {
  const authorityEnd = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(pattern)?.[0];
  if (authorityEnd === undefined) return 'must start with http:// or https://';
  if (authorityEnd.includes('*')) return 'may use wildcards only in the path and query, never in the scheme, host or port';
  if (isPattern(pattern) && pattern[authorityEnd.length] !== '/') return 'must have a "/" right after the host (and port) before any wildcard';
  if (/\*{3,}/.test(pattern)) return 'may use "*" or "**", not three or more stars in a row';
  const literal = pattern.replace(/\*+/g, 'x');
  const check = checkServiceUrl(literal, options);
  return check.ok ? null : check.reason;
}

/** The anchored regular expression for a pattern (literal everywhere except the wildcards). */
export function compilePattern(pattern: string): RegExp {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const source = pattern
    .split(/(\*\*|\*)/)
    .map((part) => (part === '**' ? '[^#]*' : part === '*' ? '[^/?#]*' : escape(part)))
    .join('');
  return new RegExp(`^${source}$`);
}

/** A compiled matcher: exact comparison for plain URLs, the anchored expression for patterns. */
export function serviceMatcher(serviceUrl: string): (candidate: string) => boolean {
  if (!isPattern(serviceUrl)) return (candidate) => candidate === serviceUrl;
  const re = compilePattern(serviceUrl);
  return (candidate) => re.test(candidate);
}
