/**
 * Masking of credentials inside free text, for the two places where text leaves a process: log lines
 * (src/logger.ts) and activity failures, which Temporal keeps in workflow histories (src/errors.ts).
 * Pure (no imports), so workflow code may import it.
 */

/**
 * Mask credentials inside free text: the password of any `scheme://user:password@` URL and the value
 * of `password=` / `passwd=` / `pwd=` keywords (libpq connection strings, URL query parameters)
 * become `***`. Everything else is left as is. Drivers echo connection strings in error messages
 * (DuckDB's postgres extension, for one), which is what this catches.
 */
export function scrubSecrets(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^\s:/@"'\\]*:)[^\s@"'\\/]+@/gi, '$1***@')
    .replace(/\b(password|passwd|pwd)(\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s"';&]+)/gi, '$1$2***');
}
