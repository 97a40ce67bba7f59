import {
  AndFilter,
  ApproximateFilter,
  EqualityFilter,
  ExtensibleFilter,
  type Filter,
  FilterParser,
  GreaterThanEqualsFilter,
  LessThanEqualsFilter,
  NotFilter,
  OrFilter,
  PresenceFilter,
  SubstringFilter,
} from 'ldapts';

/**
 * LDAP filters built from configured templates such as `(uid={{username}})`.
 *
 * The template is parsed once, at start-up; user input is then put into the
 * parsed filter tree as an assertion *value*, which is encoded as a BER
 * octet string. User input is therefore never parsed as filter syntax, so no
 * input (`*)(uid=*))(|(uid=*`, NUL, backslashes) can change the filter's
 * structure. The template's own RFC 4515 escapes (`\2a`, `\c3\a9`) are
 * decoded here as UTF-8 bytes: ldapts' parser decodes each `\XX` as one
 * character, which is wrong for non-ASCII, so it is only given the escapes
 * re-escaped and returns them as text.
 */

const PLACEHOLDER = /\{\{(\w+)\}\}/g;

/** RFC 4515 §3 escaping of an assertion value, for text shown in logs and for string-only APIs. */
export function escapeFilterValue(value: string): string {
  // eslint-disable-next-line no-control-regex -- NUL is one of the characters RFC 4515 requires escaping
  return value.replace(/[\\*()\u0000]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** RFC 4514 §2.4 escaping of an attribute value inside a DN (for DN templates). */
export function escapeDnValue(value: string): string {
  return value
    .replace(/[\\",+;<>=]/g, (c) => `\\${c}`)
    .replace(/^[ #]/, (c) => `\\${c}`)
    .replace(/ $/, '\\ ')
    // eslint-disable-next-line no-control-regex -- NUL must be hex-escaped in a DN
    .replace(/\u0000/g, '\\00');
}

/** Replaces {{name}} placeholders in a DN/UPN template, each value DN-escaped. */
export function fillDnTemplate(template: string, values: Record<string, string>): string {
  return template.replace(PLACEHOLDER, (whole, name: string) => (name in values ? escapeDnValue(values[name]) : whole));
}

/** Undoes RFC 4515 `\XX` escapes in the literal parts of a template. */
function unescapeTemplateLiteral(text: string): string {
  const bytes: number[] = [];
  const raw = Buffer.from(text, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0x5c && i + 2 < raw.length && /^[0-9a-fA-F]{2}$/.test(raw.subarray(i + 1, i + 3).toString('latin1'))) {
      bytes.push(parseInt(raw.subarray(i + 1, i + 3).toString('latin1'), 16));
      i += 2;
    } else {
      bytes.push(raw[i]);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

export class FilterTemplate {
  private constructor(
    private readonly root: Filter,
    readonly text: string,
  ) {}

  /** Parses a template; throws with a readable reason if it is not a valid filter or uses unknown placeholders. */
  static parse(text: string, allowed: readonly string[]): FilterTemplate {
    for (const match of text.matchAll(PLACEHOLDER)) {
      if (!allowed.includes(match[1])) throw new Error(`unknown placeholder {{${match[1]}}} (allowed: ${allowed.map((a) => `{{${a}}}`).join(', ')})`);
    }
    let root: Filter;
    try {
      checkParentheses(text.trim());
      // `\XX` → `\5cXX`: the parser turns it back into the text `\XX`, which `substitute` decodes as UTF-8.
      root = FilterParser.parseString(text.replace(/\\([0-9a-fA-F]{2})/g, '\\5c$1'));
    } catch (error) {
      throw new Error(`not a valid LDAP filter: ${(error as Error).message}`);
    }
    build(root, {}); // rejects element types the renderer does not know, at start-up
    return new FilterTemplate(root, text);
  }

  /** The filter with `values` inserted as assertion values (ready for a search). */
  render(values: Record<string, string>): Filter {
    return build(this.root, values);
  }

  /** The filter as RFC 4515 text (escaped), for logs. */
  describe(values: Record<string, string>): string {
    return this.text.replace(PLACEHOLDER, (whole, name: string) => (name in values ? escapeFilterValue(values[name]) : whole));
  }
}

/** ldapts' parser accepts some unbalanced filters (`(&(uid=x)`); values cannot hold bare parentheses, so counting is exact. */
function checkParentheses(text: string): void {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')') {
      depth--;
      if (depth < 0) throw new Error('a ")" closes nothing');
      if (depth === 0 && i < text.length - 1) throw new Error(`text after the end of the filter: ${text.slice(i + 1)}`);
    }
  }
  if (depth !== 0) throw new Error('unbalanced parentheses: a "(" is never closed');
}

function substitute(literal: string, values: Record<string, string>): string {
  // Split on placeholders so only the template's own text is unescaped; inserted values stay raw.
  let out = '';
  let last = 0;
  for (const match of literal.matchAll(PLACEHOLDER)) {
    out += unescapeTemplateLiteral(literal.slice(last, match.index));
    out += values[match[1]] ?? '';
    last = (match.index ?? 0) + match[0].length;
  }
  return out + unescapeTemplateLiteral(literal.slice(last));
}

function valueText(value: Buffer | string): string {
  return Buffer.isBuffer(value) ? value.toString('utf8') : value;
}

function build(node: Filter, values: Record<string, string>): Filter {
  if (node instanceof AndFilter) return new AndFilter({ filters: node.filters.map((f) => build(f, values)) });
  if (node instanceof OrFilter) return new OrFilter({ filters: node.filters.map((f) => build(f, values)) });
  if (node instanceof NotFilter) return new NotFilter({ filter: build(node.filter, values) });
  if (node instanceof PresenceFilter) return new PresenceFilter({ attribute: node.attribute });
  if (node instanceof EqualityFilter) return new EqualityFilter({ attribute: node.attribute, value: substitute(valueText(node.value), values) });
  if (node instanceof ApproximateFilter) return new ApproximateFilter({ attribute: node.attribute, value: substitute(node.value, values) });
  if (node instanceof GreaterThanEqualsFilter) return new GreaterThanEqualsFilter({ attribute: node.attribute, value: substitute(node.value, values) });
  if (node instanceof LessThanEqualsFilter) return new LessThanEqualsFilter({ attribute: node.attribute, value: substitute(node.value, values) });
  if (node instanceof SubstringFilter) {
    return new SubstringFilter({
      attribute: node.attribute,
      initial: substitute(node.initial, values),
      any: node.any.map((a) => substitute(a, values)),
      final: substitute(node.final, values),
    });
  }
  if (node instanceof ExtensibleFilter) {
    return new ExtensibleFilter({
      ...(node.matchType ? { matchType: node.matchType } : {}),
      ...(node.rule ? { rule: node.rule } : {}),
      value: substitute(node.value, values),
      dnAttributes: node.dnAttributes,
    });
  }
  throw new Error(`unsupported filter element ${node.constructor.name}`);
}
