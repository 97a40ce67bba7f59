import { MAX_URL_LENGTH, checkServiceUrl, compilePattern, isPattern, patternProblem, serviceMatcher } from '../../src/cas/service-pattern';

/**
 * The service URL matcher alone (src/cas/service-pattern.ts). Matching
 * through the registry (exact before patterns, evaluation order, host
 * confusion) is test/integration/cas-service-registry.test.ts's.
 */

const matches = (pattern: string, candidates: string[]) => {
  const match = serviceMatcher(pattern);
  return candidates.filter((c) => match(c));
};

describe('service URL patterns: matching', () => {
  it('compares an exact URL character for character: no normalising of case, trailing slash, default port or escapes', () => {
    const exact = 'https://app.example.org/cas/login';
    expect(isPattern(exact)).toBe(false);
    expect(
      matches(exact, [
        exact,
        'https://APP.example.org/cas/login',
        'https://app.example.org/cas/login/',
        'https://app.example.org:443/cas/login',
        'https://app.example.org/cas/%6Cogin',
        'https://app.example.org/cas/login?',
      ]),
    ).toEqual([exact]);
  });

  it('* matches within one path segment, including the empty run, but never across /, ? or #', () => {
    const pattern = 'https://app.example.org/a/*/b';
    expect(
      matches(pattern, [
        'https://app.example.org/a/x/b',
        'https://app.example.org/a//b',
        'https://app.example.org/a/x.y-z~%20/b',
        'https://app.example.org/a/x/y/b',
        'https://app.example.org/a/x?/b',
        'https://app.example.org/a/x#/b',
      ]),
    ).toEqual(['https://app.example.org/a/x/b', 'https://app.example.org/a//b', 'https://app.example.org/a/x.y-z~%20/b']);
  });

  it('** matches across segments and into the query, but never past a #', () => {
    const pattern = 'https://app.example.org/app/**';
    expect(
      matches(pattern, [
        'https://app.example.org/app/',
        'https://app.example.org/app/a/b/c',
        'https://app.example.org/app/?next=/x&y=1',
        'https://app.example.org/app/x#frag',
        'https://app.example.org/app',
      ]),
    ).toEqual(['https://app.example.org/app/', 'https://app.example.org/app/a/b/c', 'https://app.example.org/app/?next=/x&y=1']);
  });

  it('treats every other character literally, regular-expression metacharacters included', () => {
    const pattern = 'https://app.example.org/a.b+c(d)[e]$f^g|h{1}/**';
    expect(compilePattern(pattern).test('https://app.example.org/a.b+c(d)[e]$f^g|h{1}/x')).toBe(true);
    expect(compilePattern(pattern).test('https://app.example.org/aXb+c(d)[e]$f^g|h{1}/x')).toBe(false);
    expect(compilePattern(pattern).test('https://app.example.org/a.bbc(d)[e]$f^g|h{1}/x')).toBe(false);
    expect(matches('https://app.example.org/?x=*', ['https://app.example.org/?x=1', 'https://appXexample.org/?x=1'])).toEqual(['https://app.example.org/?x=1']);
  });

  it('is anchored at both ends', () => {
    const pattern = 'https://app.example.org/*/login';
    expect(matches(pattern, ['https://app.example.org/v1/login', 'xhttps://app.example.org/v1/login', 'https://app.example.org/v1/loginx'])).toEqual([
      'https://app.example.org/v1/login',
    ]);
  });
});

describe('service URL patterns: registration checks', () => {
  it('accepts exact URLs and patterns with wildcards after the authority', () => {
    for (const ok of ['https://app.example.org/', 'http://app.example.org:8080/x?y=1', 'https://app.example.org/**', 'https://app.example.org:8443/*/x', 'https://app.example.org/?a=*']) {
      expect([ok, patternProblem(ok)]).toEqual([ok, null]);
    }
  });

  it('refuses a wildcard in the scheme, host or port, naming the rule', () => {
    for (const bad of ['https://*.example.org/', 'https://app.example.*/', 'https://app.example.org:*/', 'https://app.example.org*', 'http*://app.example.org/']) {
      expect([bad, patternProblem(bad)]).toEqual([bad, expect.stringMatching(/scheme, host or port|must start with/)]);
    }
    expect(patternProblem('https://app.example.org:*/')).toBe('may use wildcards only in the path and query, never in the scheme, host or port');
  });

  it('requires a / right after the authority before any wildcard, so the host cannot be extended', () => {
    expect(patternProblem('https://app.example.org?x=*')).toBe('must have a "/" right after the host (and port) before any wildcard');
  });

  it('refuses three or more stars in a row', () => {
    expect(patternProblem('https://app.example.org/***')).toBe('may use "*" or "**", not three or more stars in a row');
  });

  it('checks the literal parts as a URL: scheme, credentials, whitespace; https only when asked', () => {
    expect(patternProblem('app.example.org/**')).toBe('must start with http:// or https://');
    expect(patternProblem('ftp://app.example.org/**')).toBe('must be an absolute http or https URL');
    expect(patternProblem('https://user:pw@app.example.org/**')).toBe('must not contain a user name or password');
    expect(patternProblem('https://app.example.org/a b/*')).toBe('contains whitespace, control characters or a backslash');
    expect(patternProblem('http://app.example.org/pgt/*', { httpsOnly: true })).toBe('must be an absolute https URL');
    expect(patternProblem('https://app.example.org/pgt/*', { httpsOnly: true })).toBeNull();
  });
});

describe('checkServiceUrl', () => {
  const reason = (value: string, options?: { httpsOnly?: boolean }) => {
    const check = checkServiceUrl(value, options);
    return check.ok ? null : check.reason;
  };

  it('accepts absolute http(s) URLs and returns them parsed', () => {
    const check = checkServiceUrl('HTTPS://app.example.org:8443/x?y=1');
    expect(check.ok && check.url.host).toBe('app.example.org:8443');
    expect(reason('http://app.example.org/')).toBeNull();
  });

  it('refuses what a browser should not be redirected to, with a reason', () => {
    expect(reason('')).toBe('is empty');
    expect(reason(`https://app.example.org/${'a'.repeat(MAX_URL_LENGTH)}`)).toBe(`is longer than ${MAX_URL_LENGTH} characters`);
    for (const bad of ['https://app.example.org/\\evil', 'https://app.example.org/\tx', 'https://app.example.org/\u0085', ' https://app.example.org/']) {
      expect([bad, reason(bad)]).toEqual([bad, 'contains whitespace, control characters or a backslash']);
    }
    for (const bad of ['javascript:alert(1)//', '//app.example.org/', '/cas/login', 'file:///etc/passwd']) {
      expect([bad, reason(bad)]).toEqual([bad, 'must be an absolute http or https URL']);
    }
    expect(reason('https://app.example.org:99999/')).toBe('is not a valid URL');
    expect(reason('https://alice@app.example.org/')).toBe('must not contain a user name or password');
    expect(reason('http://app.example.org/', { httpsOnly: true })).toBe('must be an absolute https URL');
  });
});
