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
 * Where in a job's expected duration a trial's fault fires, as a share of it: uniform in [0.1, 0.8]
 * (never at the very start, when nothing is in flight, nor so late that the job is likely done).
 */
export function faultShare(trialSeed: number): number {
  return 0.1 + 0.7 * seededRandom(trialSeed)();
}
