/**
 * The peers bench's pieces that need no network: the installer's plan (pinned requirements, paths, stamp) and
 * the cell-by-cell comparison on real DuckDB files.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareWithFloe, matches } from '../../bench/peers/compare.js';
import { PEER_REQUIREMENTS, peerInstallPlan } from '../../bench/peers/install.js';
import { duckdbInstanceOptions, duckdbVersion } from '../../src/infra/paths.js';

describe('peers installer plan', () => {
  it('pins every requirement, with the DuckDB pieces at floe’s DuckDB version', () => {
    for (const r of PEER_REQUIREMENTS) expect(r).toMatch(/^[a-z0-9-]+(\[[a-z0-9,-]+\])?==\d[\w.]*$/);
    const v = duckdbVersion.slice(1);
    expect(PEER_REQUIREMENTS).toEqual(
      expect.arrayContaining([`duckdb==${v}`, `duckdb-cli==${v}`, `duckdb-extension-json==${v}`]),
    );
    expect(PEER_REQUIREMENTS.some((r) => r.startsWith('sling-linux-amd64=='))).toBe(true);
    expect(PEER_REQUIREMENTS.some((r) => r.startsWith('dlt[duckdb,sql-database]=='))).toBe(true);
  });

  it('installs into <home>/peers, stamps the requirements, and gives Sling a HOME with the extensions', () => {
    const plan = peerInstallPlan('/h', '3.11');
    expect(plan.venvDir).toBe('/h/peers');
    expect(plan.stampFile).toBe('/h/stamps/peers.json');
    expect(JSON.parse(plan.stampValue)).toEqual({ requirements: PEER_REQUIREMENTS });
    expect(plan.pipArgs.slice(-PEER_REQUIREMENTS.length)).toEqual(PEER_REQUIREMENTS);
    expect(plan.install.sling).toBe('/h/peers/lib/python3.11/site-packages/sling_linux_amd64/bin/sling-linux-amd64');
    expect(plan.extensions.map((e) => e.to)).toEqual(
      ['json', 'httpfs'].map(
        (e) => `/h/peers/home/.duckdb/extensions/${duckdbVersion}/linux_amd64/${e}.duckdb_extension`,
      ),
    );
  });
});

describe('peers comparison', () => {
  let dir: string;
  const file = (name: string) => path.join(dir, `${name}.duckdb`);
  async function make(name: string, sql: string): Promise<void> {
    const inst = await DuckDBInstance.create(file(name), duckdbInstanceOptions());
    const conn = await inst.connect();
    await conn.run(sql);
    conn.closeSync();
    inst.closeSync();
  }
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-peers-'));
    await make(
      'floe',
      `CREATE SCHEMA "DB__S"; CREATE TABLE "DB__S"."T" ("ID" DECIMAL(38,0), "PRICE" DECIMAL(12,2), "D" DATE, "NAME" VARCHAR);
       INSERT INTO "DB__S"."T" VALUES (1, 1.50, DATE '2024-01-01', 'a'), (2, 2.25, DATE '2024-01-02', NULL), (2, 2.25, DATE '2024-01-02', NULL)`,
    );
    // Same values, other names' case, other types, an extra column of the tool's own.
    await make(
      'same',
      `CREATE TABLE t (id BIGINT, price DOUBLE, d VARCHAR, name VARCHAR, _dlt_id VARCHAR);
       INSERT INTO t VALUES (2, 2.25, '2024-01-02', NULL, 'x'), (1, 1.5, '2024-01-01', 'a', 'y'), (2, 2.25, '2024-01-02', NULL, 'z')`,
    );
    // One cell differs, one duplicate is missing.
    await make(
      'differs',
      `CREATE TABLE t (id BIGINT, price DOUBLE, d VARCHAR, name VARCHAR);
       INSERT INTO t VALUES (1, 1.5, '2024-01-01', 'b'), (2, 2.25, '2024-01-02', NULL)`,
    );
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('matches equal values across types and name case, and counts rows each side lacks', async () => {
    const [same, differs] = await compareWithFloe({ file: file('floe'), schema: 'DB__S', table: 'T' }, [
      { file: file('same'), schema: 'main', table: 't' },
      { file: file('differs'), schema: 'main', table: 't' },
    ]);
    expect(same).toEqual({ rows: 3, onlyInFloe: 0, onlyInPeer: 0 });
    expect(matches(same)).toBe(true);
    expect(differs).toEqual({ rows: 2, onlyInFloe: 2, onlyInPeer: 1 });
    expect(matches(differs)).toBe(false);
  });

  it('fails naming floe’s table when it is missing', async () => {
    await expect(
      compareWithFloe({ file: file('floe'), schema: 'DB__S', table: 'NOPE' }, [
        { file: file('same'), schema: 'main', table: 't' },
      ]),
    ).rejects.toThrow(/DB__S\.NOPE/);
  });
});
