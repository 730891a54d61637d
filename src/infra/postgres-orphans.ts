/**
 * PostgreSQL clusters left behind in the fallback directory (src/infra/postgres.ts keeps a cluster
 * there when the `postgres` user cannot reach the state directory): finding the ones whose state
 * directory is gone, and removing them (`npm run stack -- --clean-orphans`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { ELSEWHERE_FILE, FALLBACK_ROOT, OWNER_FILE, type ClusterOwner } from './postgres.js';

/** A cluster in the fallback directory whose state directory is gone. */
export interface OrphanCluster {
  /** The cluster's directory, `<root>/<hash>`. */
  dir: string;
  /** The state directory it was created for (no longer there, or no longer pointing at `dir`). */
  requestedDir: string;
  /** Size on disk, bytes. */
  bytes: number;
}

/** Bytes under `dir` (files only; symlinks not followed). */
function diskUsage(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += fs.lstatSync(path.join(entry.parentPath, entry.name)).size;
  }
  return total;
}

/** True when a postmaster runs on `dir`'s cluster (its postmaster.pid names a live process). */
function clusterRunning(dir: string): boolean {
  try {
    const pid = Number(fs.readFileSync(path.join(dir, 'pgdata', 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Clusters in the fallback directory (`root`, default {@link FALLBACK_ROOT}) whose state directory
 * is gone: the one named by their OWNER file no longer exists or no longer points at them through
 * CLUSTER-IS-ELSEWHERE. Running clusters and clusters without an OWNER file (made before floe
 * recorded owners, or being created right now) are never listed.
 */
export function findOrphanClusters(root: string = FALLBACK_ROOT): OrphanCluster[] {
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    return [];
  }
  const orphans: OrphanCluster[] = [];
  for (const name of names.sort()) {
    const dir = path.join(root, name);
    let owner: ClusterOwner;
    try {
      owner = JSON.parse(fs.readFileSync(path.join(dir, OWNER_FILE), 'utf8')) as ClusterOwner;
    } catch {
      continue;
    }
    let pointer = '';
    try {
      pointer = fs.readFileSync(path.join(owner.requestedDir, ELSEWHERE_FILE), 'utf8').trim();
    } catch {
      /* state directory (or its pointer) gone */
    }
    if (pointer === dir || clusterRunning(dir)) continue;
    orphans.push({ dir, requestedDir: owner.requestedDir, bytes: diskUsage(dir) });
  }
  return orphans;
}

/**
 * Deletes the clusters {@link findOrphanClusters} lists (`npm run stack -- --clean-orphans`).
 *
 * @returns the clusters removed.
 */
export function removeOrphanClusters(root: string = FALLBACK_ROOT): OrphanCluster[] {
  const orphans = findOrphanClusters(root);
  for (const o of orphans) fs.rmSync(o.dir, { recursive: true, force: true });
  return orphans;
}
