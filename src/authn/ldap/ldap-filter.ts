import ldap from 'ldapjs';

/**
 * LDAP filters built from configured templates such as `(uid={{username}})`.
 *
 * The template is parsed once, at start-up; user input is then put into the
 * parsed filter tree as an assertion *value*, which ldapjs encodes as a BER
 * octet string. User input is therefore never parsed as filter syntax, so no
 * input (`*)(uid=*))(|(uid=*`, NUL, backslashes) can change the filter's
 * structure. (String escaping alone is not enough here: ldapjs 3's string
 * parser keeps RFC 4515 escapes such as `\2a` literally in the value, so a
 * correctly escaped `star\2auser` would search for the wrong bytes.)
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

/** Structural view of the nodes ldapjs' parser produces (its typings only declare constructors). */
interface ParsedNode {
  type: string;
  attribute?: string;
  value?: unknown;
  filters?: ParsedNode[];
  filter?: ParsedNode;
  initial?: string;
  any?: string[];
  final?: string;
  matchingRule?: string;
  matchValue?: string;
  dnAttributes?: boolean;
}

export class FilterTemplate {
  private constructor(
    private readonly root: ParsedNode,
    readonly text: string,
  ) {}

  /** Parses a template; throws with a readable reason if it is not a valid filter or uses unknown placeholders. */
  static parse(text: string, allowed: readonly string[]): FilterTemplate {
    for (const match of text.matchAll(PLACEHOLDER)) {
      if (!allowed.includes(match[1])) throw new Error(`unknown placeholder {{${match[1]}}} (allowed: ${allowed.map((a) => `{{${a}}}`).join(', ')})`);
    }
    let root: ParsedNode;
    try {
      // Parsed as ldapjs' own node classes; the cast only gives their runtime getters a type.
      root = ldap.parseFilter(text) as unknown as ParsedNode;
    } catch (error) {
      throw new Error(`not a valid LDAP filter: ${(error as Error).message}`);
    }
    return new FilterTemplate(root, text);
  }

  /** The filter with `values` inserted as assertion values (ready for ldapjs search). */
  render(values: Record<string, string>): ldap.Filter {
    return build(this.root, values);
  }

  /** The filter as RFC 4515 text (escaped), for logs. */
  describe(values: Record<string, string>): string {
    return this.text.replace(PLACEHOLDER, (whole, name: string) => (name in values ? escapeFilterValue(values[name]) : whole));
  }
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

function valueText(value: unknown): string {
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value ?? '');
}

function build(node: ParsedNode, values: Record<string, string>): ldap.Filter {
  const attribute = node.attribute ?? '';
  switch (node.type) {
    case 'AndFilter':
      return new ldap.AndFilter({ filters: (node.filters ?? []).map((f) => build(f, values)) });
    case 'OrFilter':
      return new ldap.OrFilter({ filters: (node.filters ?? []).map((f) => build(f, values)) });
    case 'NotFilter':
      return new ldap.NotFilter({ filter: build(node.filter as ParsedNode, values) });
    case 'PresenceFilter':
      return new ldap.PresenceFilter({ attribute });
    case 'EqualityFilter':
      return new ldap.EqualityFilter({ attribute, value: substitute(valueText(node.value), values) });
    case 'ApproximateFilter':
      return new ldap.ApproximateFilter({ attribute, value: substitute(valueText(node.value), values) });
    case 'GreaterThanEqualsFilter':
      return new ldap.GreaterThanEqualsFilter({ attribute, value: substitute(valueText(node.value), values) });
    case 'LessThanEqualsFilter':
      return new ldap.LessThanEqualsFilter({ attribute, value: substitute(valueText(node.value), values) });
    case 'SubstringFilter':
      return new ldap.SubstringFilter({
        attribute,
        initial: node.initial ? substitute(node.initial, values) : '',
        any: (node.any ?? []).map((a) => substitute(a, values)),
        final: node.final ? substitute(node.final, values) : undefined,
      });
    case 'ExtensibleFilter':
      return new ldap.ExtensibleFilter({
        ...(attribute ? { matchType: attribute } : {}),
        rule: node.matchingRule,
        value: substitute(valueText(node.matchValue), values),
        dnAttributes: node.dnAttributes ?? false,
      });
    default:
      throw new Error(`unsupported filter element ${node.type}`);
  }
}
