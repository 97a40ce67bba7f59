/**
 * CAS 1.0 `/validate`: the form Apereo CAS and real clients use,
 * `yes\n<user>\n` or `no\n\n` (the spec text shows only the first line).
 * A user name containing a line break could forge the second line, so it is
 * refused rather than sent.
 */
export function renderCas1(user: string | null): string {
  if (user === null || /[\r\n]/.test(user)) return 'no\n\n';
  return `yes\n${user}\n`;
}
