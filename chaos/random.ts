/**
 * Seeded randomness for the chaos runner: the same seed gives the same fault moments, so a failed
 * trial can be replayed with `--seed <its seed> --trials 1`.
 */

/** mulberry32: a small 32-bit PRNG; returns a function giving floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Where in a job's expected duration (its baseline run's, which includes cold starts) a trial's fault
 * fires, as a share of it: uniform in [0.05, 0.6] (not at the very start, when nothing is in flight,
 * nor late, when a warm run has often finished).
 */
export function faultShare(trialSeed: number): number {
  return 0.05 + 0.55 * seededRandom(trialSeed)();
}
