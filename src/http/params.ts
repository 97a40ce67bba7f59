import type { Request } from 'express';
import { InputError } from '../shared/errors';

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Bytes as UTF-8, refusing invalid sequences (never U+FFFD guesses: two byte strings must not become one name). */
export function decodeUtf8Strictly(bytes: Uint8Array, what = 'The request'): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new InputError(`${what} is not valid UTF-8.`);
  }
}

function decodeComponent(raw: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const ch = raw.charCodeAt(i);
    if (ch === 0x2b) bytes.push(0x20);
    else if (ch === 0x25) {
      const hex = raw.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new InputError('Malformed percent-encoding in the request.');
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (ch > 0xff) {
      throw new InputError('The request is not valid UTF-8.');
    } else bytes.push(ch);
  }
  return decodeUtf8Strictly(Uint8Array.from(bytes));
}

/**
 * Parameters of a query string or form body, decoded strictly: invalid UTF-8,
 * malformed escapes and repeated names are client errors, never guesses.
 */
export class Params {
  private constructor(private readonly values: Map<string, string>) {}

  static parse(encoded: string): Params {
    const values = new Map<string, string>();
    if (encoded.length === 0) return new Params(values);
    for (const pair of encoded.split('&')) {
      if (pair.length === 0) continue;
      const eq = pair.indexOf('=');
      const name = decodeComponent(eq < 0 ? pair : pair.slice(0, eq));
      const value = eq < 0 ? '' : decodeComponent(pair.slice(eq + 1));
      if (values.has(name)) throw new InputError(`Parameter "${name.slice(0, 64)}" is given more than once.`);
      values.set(name, value);
    }
    return new Params(values);
  }

  /** Already-decoded values (e.g. merged from a query and a form). */
  static of(values: ReadonlyMap<string, string>): Params {
    return new Params(new Map(values));
  }

  static empty(): Params {
    return new Params(new Map());
  }

  get(name: string): string | undefined {
    return this.values.get(name);
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  /** A required, non-empty parameter no longer than `maxLength` characters. */
  require(name: string, maxLength: number, label = name): string {
    const value = this.values.get(name);
    if (value === undefined || value.length === 0) throw new InputError(`${label} is required.`);
    if (value.length > maxLength) throw new InputError(`${label} is longer than ${maxLength} characters.`);
    return value;
  }

  names(): string[] {
    return [...this.values.keys()];
  }
}

const queryCache = new WeakMap<Request, Params>();

/** The request's query string, parsed strictly (cached per request). */
export function queryParams(req: Request): Params {
  let params = queryCache.get(req);
  if (!params) {
    const url = req.originalUrl;
    const q = url.indexOf('?');
    params = Params.parse(q < 0 ? '' : url.slice(q + 1));
    queryCache.set(req, params);
  }
  return params;
}

export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

/** The body of a form POST (express.raw must have read it), parsed strictly. */
export function formParams(req: Request): Params {
  if (!req.is(FORM_CONTENT_TYPE)) {
    throw new InputError(`The request body must be ${FORM_CONTENT_TYPE}.`, 415);
  }
  const body: unknown = req.body;
  if (!Buffer.isBuffer(body)) return Params.empty();
  return Params.parse(body.toString('latin1'));
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!header) return cookies;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (!cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}
