/**
 * The container deployment, checked without a Docker engine (none on the CI machines): the compose
 * file parses, runs the API and the workers as separate services from the image built by the
 * Dockerfile, keeps state in named volumes, lets the scalable worker scale and gives exactly one
 * worker the DuckDB file; the Dockerfile is multi-stage, installs production dependencies only and
 * runs as a non-root user. What only `docker compose up` can show is listed in docs/deployment.md.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseJobKinds } from '../../src/jobs/common.js';

interface Service {
  build?: string;
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  container_name?: string;
  deploy?: { replicas?: number };
}

const root = process.cwd();
const compose = parse(fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const dockerfile = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8');
const floeServices = ['api', 'worker', 'worker-duckdb'] as const;

/** `--jobs` value of a worker's command. */
function jobsOf(s: Service): string[] {
  const i = s.command!.indexOf('--jobs');
  return i < 0 ? parseJobKinds('all') : parseJobKinds(s.command![i + 1]!);
}

describe('docker-compose.yml', () => {
  it('runs the API and the workers as separate services of the image built here, each with its own entry point', () => {
    for (const name of floeServices) {
      const s = compose.services[name]!;
      expect(s, name).toBeDefined();
      expect(s.build, name).toBe('.');
      // The entry point exists and nothing is installed when the container starts.
      expect(fs.existsSync(path.join(root, s.command![1]!)), `${name}: ${s.command![1]}`).toBe(true);
      expect(s.command!.join(' '), name).not.toMatch(/npm (ci|install)|bootstrap/);
    }
    expect(compose.services.api!.command!.slice(0, 2)).toEqual(['tsx', 'src/api/server.ts']);
    expect(compose.services.worker!.command!.slice(0, 2)).toEqual(['tsx', 'src/worker.ts']);
    expect(compose.services['worker-duckdb']!.command!.slice(0, 2)).toEqual(['tsx', 'src/worker.ts']);
  });

  it('gives every floe service the same configuration, and exactly one unscaled worker the DuckDB file', () => {
    const envOf = (name: string) => compose.services[name]!.environment!;
    const { FLOE_DUCKDB_OWNER: _a, ...apiEnv } = envOf('api');
    for (const name of ['worker', 'worker-duckdb']) {
      const { FLOE_DUCKDB_OWNER: _b, ...env } = envOf(name);
      expect(env, name).toEqual(apiEnv);
    }
    const owners = Object.entries(compose.services)
      .filter(([, s]) => s.environment?.FLOE_DUCKDB_OWNER === 'true')
      .map(([n]) => n);
    expect(owners).toEqual(['worker-duckdb']);
    const owner = compose.services['worker-duckdb']!;
    expect(owner.deploy?.replicas ?? 1).toBe(1);
    expect(jobsOf(owner)).toContain('table-sync');
    // The scalable worker: no fixed name or host port (so `--scale worker=N` works), not the owner, every other job.
    const worker = compose.services.worker!;
    expect(worker.container_name).toBeUndefined();
    expect(worker.ports).toBeUndefined();
    expect(worker.environment!.FLOE_DUCKDB_OWNER).toBe('false');
    expect(jobsOf(worker)).toEqual(expect.arrayContaining(['watermark-sync', 'cache-refresh', 'execution-upload']));
    // Only the owner and the API (reads, answering 409 while a sync writes) mount the DuckDB volume.
    const withDuckdb = Object.entries(compose.services)
      .filter(([, s]) => s.volumes?.some((v) => v.startsWith('duckdb-data:')))
      .map(([n]) => n)
      .sort();
    expect(withDuckdb).toEqual(['api', 'worker-duckdb']);
  });

  it('keeps state in named volumes only', () => {
    const used = Object.values(compose.services)
      .flatMap((s) => s.volumes ?? [])
      .map((v) => v.split(':')[0]!);
    expect(used.length).toBeGreaterThan(0);
    for (const v of used) {
      expect(v, 'a bind mount of a host path').not.toMatch(/^[./~]/);
      expect(Object.keys(compose.volumes), v).toContain(v);
    }
    expect(Object.keys(compose.volumes)).toEqual(
      expect.arrayContaining(['pg-data', 'temporal-data', 'duckdb-data', 'ducklake-data']),
    );
  });

  it('requires every secret instead of defaulting it, and .env.example names each one', () => {
    const text = fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');
    const required = [...new Set([...text.matchAll(/\$\{([A-Z_]+):\?/g)].map((m) => m[1]!))].sort();
    expect(required).toEqual([
      'ADMIN_PASSWORD',
      'FLOE_ENCRYPTION_KEY',
      'JWT_SECRET_KEY',
      'POSTGRES_PASSWORD',
      'SNOWFLAKE_PASSWORD',
    ]);
    const example = fs.readFileSync(path.join(root, '.env.example'), 'utf8');
    for (const v of required) expect(example, v).toMatch(new RegExp(`^${v}=`, 'm'));
  });
});

describe('Dockerfile', () => {
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const runtime = stages.at(-1)!;

  it('is multi-stage and its final stage runs as a non-root user', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const user = /^USER\s+(\S+)/m.exec(runtime)?.[1];
    expect(user).toBeDefined();
    expect(['root', '0', '0:0']).not.toContain(user);
    expect(runtime).toMatch(new RegExp(`useradd[^\\n]*\\b${user}\\b`));
  });

  it('ships production dependencies only, built in an earlier stage', () => {
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(runtime).toMatch(/COPY --from=prod-deps \/app\/node_modules/);
    expect(runtime).not.toMatch(/npm (ci|install)(?! -g)/);
    // What the runtime stage copies from the build context exists.
    for (const m of runtime.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const p of m[1]!.split(/\s+/)) expect(fs.existsSync(path.join(root, p)), p).toBe(true);
    }
  });
});
