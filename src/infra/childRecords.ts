/**
 * Records of the servers floe starts as child processes (PostgreSQL, the Temporal dev server), so a
 * floe process that dies without stopping them (SIGKILL, an OOM kill) does not leave them running
 * unnoticed, holding their ports and data directories.
 *
 * Each child gets a record file (JSON, `<state>/run/<name>.json`): its pid, its command line, the
 * signal that stops it cleanly, and the pid and command line of the floe process that started it. The
 * record is removed when the child exits while floe watches. On the next start {@link reclaimChildren}
 * reads what is left:
 * - the recorded parent is still alive (same pid, same start time, same command line): a floe
 *   process owns the child — it is left alone and start-up refuses with {@link ChildOwnedError};
 * - the child's pid is the recorded process (same start time from `/proc/<pid>/stat`, the recorded
 *   command in `/proc/<pid>/cmdline`, still leading its own process group): it is floe's orphan — its group gets the stop signal, then SIGKILL
 *   after a grace period;
 * - anything else (the child is gone, or the pid now belongs to an unrelated process): the record is
 *   stale and only the file is removed. A process that is not floe's is never signalled.
 *
 * Linux only (`/proc`); elsewhere no process matches, so records are only cleared.
 */
import fs from 'node:fs';
import path from 'node:path';

/** One record file's content. */
export interface ChildRecord {
  /** What the child is, e.g. `postgres`, `temporal`. */
  name: string;
  pid: number;
  /** The command line floe spawned (`[command, ...args]`). */
  argv: string[];
  /** Signal that stops the child cleanly (PostgreSQL: SIGINT, fast shutdown). */
  stopSignal: NodeJS.Signals;
  /** Start time of the child (clock ticks after boot, /proc/<pid>/stat field 22): a reused pid has another. */
  startTicks: number | null;
  parentPid: number;
  parentArgv: string[];
  parentStartTicks: number | null;
  /** ISO time of the spawn. */
  startedAt: string;
}

/** What {@link reclaimChildren} did with one record. */
export interface ReclaimedChild {
  name: string;
  pid: number;
  /** `stopped`: floe's orphan, now stopped; `stale`: nothing of floe's ran under that pid. */
  outcome: 'stopped' | 'stale';
}

/** A recorded child still belongs to a live floe process. */
export class ChildOwnedError extends Error {
  constructor(
    readonly record: ChildRecord,
    readonly file: string,
  ) {
    super(
      `${record.name} (pid ${record.pid}) belongs to floe process ${record.parentPid}, which is still running (record ${file}): stop that process first`,
    );
    this.name = 'ChildOwnedError';
  }
}

/** The command line of `pid` from /proc (`[]` when the process is gone, a zombie, or unreadable). */
export function readCmdline(pid: number): string[] {
  try {
    const raw = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((part, i, all) => i < all.length - 1 || part !== '');
  } catch {
    return [];
  }
}

/**
 * True when `pid` runs `argv`: the arguments match exactly and the program has the same file name
 * (an interpreter in front, e.g. `python3 /venv/bin/temporal ...`, is accepted).
 */
export function runsCommand(pid: number, argv: readonly string[]): boolean {
  const actual = readCmdline(pid);
  if (argv.length === 0 || actual.length < argv.length) return false;
  const tail = actual.slice(actual.length - argv.length);
  return path.basename(tail[0]!) === path.basename(argv[0]!) && tail.slice(1).every((a, i) => a === argv[i + 1]);
}

/** Fields of /proc/<pid>/stat after the command name, or null when the process is gone. */
function statFields(pid: number): string[] | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is parenthesised and may contain spaces: read after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** Start time of `pid` in clock ticks after boot (field 22), or null when gone. */
export function startTicks(pid: number): number | null {
  const f = statFields(pid);
  return f ? Number(f[19]) : null;
}

/** Process group id of `pid` (field 5), or null when gone. */
function processGroup(pid: number): number | null {
  const f = statFields(pid);
  return f ? Number(f[2]) : null;
}

/** `pid` is the very process recorded: same start time and same command line. */
function isRecorded(pid: number, ticks: number | null, argv: readonly string[]): boolean {
  return ticks !== null && startTicks(pid) === ticks && runsCommand(pid, argv);
}

/**
 * Writes the record of a child just spawned (mode 0600; the directory is created).
 * `argv` is the command line as spawned.
 */
export function writeChildRecord(
  file: string,
  child: { name: string; pid: number; argv: string[]; stopSignal: NodeJS.Signals },
): void {
  const record: ChildRecord = {
    ...child,
    startTicks: startTicks(child.pid),
    parentPid: process.pid,
    parentArgv: readCmdline(process.pid),
    parentStartTicks: startTicks(process.pid),
    startedAt: new Date().toISOString(),
  };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
}

/** Removes `file` if it still describes `pid` (a newer record of a restarted child is kept). */
export function removeChildRecord(file: string, pid: number): void {
  try {
    const record = JSON.parse(fs.readFileSync(file, 'utf8')) as ChildRecord;
    if (record.pid === pid) fs.rmSync(file, { force: true });
  } catch {
    /* already gone or unreadable */
  }
}

async function waitGone(r: ChildRecord, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isRecorded(r.pid, r.startTicks, r.argv)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    /* already gone */
  }
}

/**
 * Handles one record file as described in the module comment.
 *
 * @param graceMs how long the stop signal gets before SIGKILL (default 30 000).
 * @returns what was done, or null when the file does not exist or is unreadable (then removed).
 * @throws ChildOwnedError when the recorded parent is alive.
 */
export async function reclaimChild(file: string, graceMs = 30_000): Promise<ReclaimedChild | null> {
  let record: ChildRecord;
  try {
    record = JSON.parse(fs.readFileSync(file, 'utf8')) as ChildRecord;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    fs.rmSync(file, { force: true });
    return null;
  }
  if (isRecorded(record.parentPid, record.parentStartTicks, record.parentArgv)) throw new ChildOwnedError(record, file);
  let outcome: ReclaimedChild['outcome'] = 'stale';
  // Ours only if the pid is the recorded process (start time, command line) AND still leads the group floe gave it.
  if (isRecorded(record.pid, record.startTicks, record.argv) && processGroup(record.pid) === record.pid) {
    signalGroup(record.pid, record.stopSignal);
    if (!(await waitGone(record, graceMs))) {
      signalGroup(record.pid, 'SIGKILL');
      await waitGone(record, 10_000);
    }
    outcome = 'stopped';
  }
  fs.rmSync(file, { force: true });
  return { name: record.name, pid: record.pid, outcome };
}

/**
 * Reclaims every record in `dir` (`*.json`), see the module comment. Missing directory: nothing to do.
 *
 * @returns what was done per record.
 * @throws ChildOwnedError when a recorded parent is alive (records after it are left as they are).
 */
export async function reclaimChildren(dir: string, graceMs?: number): Promise<ReclaimedChild[]> {
  let names: string[];
  try {
    names = fs
      .readdirSync(dir)
      .filter((n) => n.endsWith('.json'))
      .sort();
  } catch {
    return [];
  }
  const done: ReclaimedChild[] = [];
  for (const n of names) {
    const r = await reclaimChild(path.join(dir, n), graceMs);
    if (r) done.push(r);
  }
  return done;
}
