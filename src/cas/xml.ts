/**
 * XML text and attribute escaping. Every value that reaches a CAS or SAML
 * document goes through here: user names, attribute values, the echoed
 * ticket in failure messages, service URLs.
 */

// Characters XML 1.0 cannot carry at all (controls other than TAB/LF/CR, lone surrogates, U+FFFE/U+FFFF).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const NOT_XML_CHAR = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Escapes element content (`>` too, so `]]>` can never appear). */
export function escapeXml(value: string): string {
  return value.replace(NOT_XML_CHAR, '\ufffd').replace(/[&<>]/g, (c) => ENTITIES[c]);
}

/** Escapes an attribute value (either quote kind). */
export function escapeXmlAttribute(value: string): string {
  return value.replace(NOT_XML_CHAR, '\ufffd').replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

/**
 * Attribute names become element names (`<cas:memberOf>`), so only a
 * conservative ASCII subset of XML NCName is allowed (no ':' — the prefix is ours).
 */
export const XML_NAME = /^[A-Za-z_][A-Za-z0-9._-]{0,127}$/;

export function isXmlName(name: string): boolean {
  return XML_NAME.test(name) && !/^xml/i.test(name);
}
