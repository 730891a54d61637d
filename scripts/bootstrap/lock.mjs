/**
 * The bootstrap lock: two bootstraps at once (two terminals, a test run next to the demo) must not both
 * run `npm ci` or pip. A directory in the OS temp dir, one per project checkout, holding the owner's pid;
 * a lock whose owner is dead (or, without a pid, older than 10 s) is taken over. The orchestrator takes it
 * only when there is work to do and re-checks each step after locking.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BootstrapError, log, projectRoot } from './context.mjs';

const lockDir = path.join(
  os.tmpdir(),
  `floe-bootstrap-${createHash('sha256').update(projectRoot).digest('hex').slice(0, 12)}.lock`,
);

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/**
 * Runs `fn` holding the lock, waiting up to 30 minutes for another bootstrap to finish.
 * @throws BootstrapError when the wait times out.
 */
export async function withLock(fn) {
  const deadline = Date.now() + 30 * 60_000;
  let announced = false;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      fs.writeFileSync(path.join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      let holder = NaN;
      try {
        holder = Number(fs.readFileSync(path.join(lockDir, 'pid'), 'utf8'));
      } catch {
        /* being written or removed */
      }
      const ageMs = (() => {
        try {
          return Date.now() - fs.statSync(lockDir).mtimeMs;
        } catch {
          return 0;
        }
      })();
      if ((Number.isFinite(holder) && !pidAlive(holder)) || (!Number.isFinite(holder) && ageMs > 10_000)) {
        fs.rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new BootstrapError(`timed out waiting for another bootstrap (lock ${lockDir})`);
      if (!announced) log(`waiting for another bootstrap (pid ${holder}) to finish`);
      announced = true;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}
