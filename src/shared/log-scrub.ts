/**
 * Last line of defence for logs: CAS ticket ids (ST-, PT-, TGT-, PGT-,
 * PGTIOU-) are replaced wherever they appear in a log call's arguments,
 * including error messages and stacks, which quote what the client sent
 * ("Ticket 'ST-...' not recognized"). Code should not log them in the
 * first place; this catches what slips through.
 */
const TICKET = /\b(TGT|ST|PT|PGT|PGTIOU)-[A-Za-z0-9._-]{16,}/g;

export function scrubTickets(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.replace(TICKET, '$1-[redacted]');
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    const copy: Record<string, unknown> = { type: value.name, message: scrubTickets(value.message), stack: scrubTickets(value.stack) };
    for (const [key, v] of Object.entries(value)) copy[key] = scrubTickets(v, depth + 1);
    return copy;
  }
  if (Array.isArray(value)) return value.map((v) => scrubTickets(v, depth + 1));
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubTickets(v, depth + 1)]));
}
