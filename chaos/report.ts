/**
 * The chaos report: one table per job (a row per fault) and the `chaos-result {...}` JSON line.
 */
import type { TrialResult } from './trial.js';

/** Figures of one job and fault. */
export interface CellSummary {
  job: string;
  fault: string;
  trials: number;
  completed: number;
  /** Trials whose fault fired while the job was running (the others fired after it had finished). */
  midJob: number;
  failedRuns: number;
  rowsLost: number;
  rowsDuplicated: number;
  cellsWrong: number;
  stateWrong: number;
  leftovers: number;
  recoveryMedianMs: number | null;
  recoveryWorstMs: number | null;
  /** Trials that failed for any reason (the columns above, a process that crashed, a changed previous target). */
  failed: number;
}

function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : Math.round((s[m - 1]! + s[m]!) / 2);
}

/** Sums the trials per job and fault, in the order they ran. */
export function summarize(results: TrialResult[]): CellSummary[] {
  const cells = new Map<string, TrialResult[]>();
  for (const r of results) {
    const key = `${r.job}\u0000${r.fault}`;
    cells.set(key, [...(cells.get(key) ?? []), r]);
  }
  return [...cells.values()].map((rs) => {
    const rec = rs.map((r) => r.recoveryMs).filter((x): x is number => x !== null);
    const sum = (f: (r: TrialResult) => number): number => rs.reduce((a, r) => a + f(r), 0);
    return {
      job: rs[0]!.job,
      fault: rs[0]!.fault,
      trials: rs.length,
      completed: rs.filter((r) => r.completed).length,
      midJob: rs.filter((r) => r.faultMidJob).length,
      failedRuns: sum((r) => r.verification.failedRuns),
      rowsLost: sum((r) => r.verification.rowsLost),
      rowsDuplicated: sum((r) => r.verification.rowsDuplicated),
      cellsWrong: sum((r) => r.verification.cellsWrong),
      stateWrong: sum((r) => r.verification.stateWrong.length),
      leftovers: sum((r) => r.verification.leftovers.length),
      recoveryMedianMs: median(rec),
      recoveryWorstMs: rec.length ? Math.max(...rec) : null,
      failed: rs.filter((r) => !r.ok).length,
    };
  });
}

const COLUMNS: [keyof CellSummary, string][] = [
  ['fault', 'fault'],
  ['trials', 'trials'],
  ['completed', 'completed'],
  ['midJob', 'mid-job'],
  ['failedRuns', 'failed runs'],
  ['rowsLost', 'rows lost'],
  ['rowsDuplicated', 'rows duplicated'],
  ['cellsWrong', 'cells wrong'],
  ['stateWrong', 'state wrong'],
  ['leftovers', 'leftovers'],
  ['recoveryMedianMs', 'recovery median ms'],
  ['recoveryWorstMs', 'recovery worst ms'],
  ['failed', 'failed trials'],
];

/** Markdown tables, one per job. */
export function formatTables(cells: CellSummary[]): string {
  const out: string[] = [];
  for (const job of [...new Set(cells.map((c) => c.job))]) {
    out.push(`\n${job}\n`);
    out.push(`| ${COLUMNS.map(([, h]) => h).join(' | ')} |`);
    out.push(`|${COLUMNS.map(([k]) => (k === 'fault' ? '---' : '--:')).join('|')}|`);
    for (const c of cells.filter((x) => x.job === job))
      out.push(`| ${COLUMNS.map(([k]) => (c[k] === null ? '-' : String(c[k]))).join(' | ')} |`);
  }
  return out.join('\n');
}

/** The final line: `chaos-result {"ok":..,"seed":..,"trials":..,"cells":[..],"failed":[..]}`. */
export function resultLine(seed: number, results: TrialResult[], cells: CellSummary[]): string {
  const failed = results
    .filter((r) => !r.ok)
    .map((r) => ({ job: r.job, fault: r.fault, seed: r.seed, faultAtMs: r.faultAtMs, keptAt: r.keptAt }));
  return `chaos-result ${JSON.stringify({ ok: failed.length === 0, seed, trials: results.length, cells, failed })}`;
}
