/**
 * Reading Prometheus text exposition (what `GET /metrics` answers) in tests.
 *
 *   const text = await (await fetch(`${api}/metrics`)).text();
 *   sample(text, 'floe_jobs_completed_total', { job: 'table-sync' });   // sum over matching series
 */

/** One series of an exposition: metric name (with `_bucket`/`_count`/`_sum` suffixes as written), labels, value. */
export interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Every series of a Prometheus text exposition (comment lines skipped). */
export function parseExposition(text: string): Series[] {
  const out: Series[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** Sum of the series named `name` whose labels include `labels` (0 when none). */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  return parseExposition(text)
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);
}
