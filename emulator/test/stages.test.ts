import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SnowflakeError } from '../src/errors.js';
import { dropSessionStages } from '../src/stages.js';
import { createHarness, type Harness } from './stages.harness.js';

const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');

async function sfError(p: Promise<unknown>): Promise<SnowflakeError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SnowflakeError);
  return err as SnowflakeError;
}

describe('stages (handler against DuckDB)', () => {
  let h: Harness;
  let local: string;

  beforeAll(async () => {
    h = await createHarness();
    local = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-local-'));
  });
  afterAll(() => h.close());

  it('ignores statements that are not stage statements', async () => {
    const { handleStageStatement } = await import('../src/stages.js');
    expect(await handleStageStatement('SELECT 1', h.ctx)).toBeNull();
    expect(await handleStageStatement('COPY_TABLE_X', h.ctx)).toBeNull();
  });

  it('creates, refuses a duplicate, tolerates IF NOT EXISTS and drops a named stage', async () => {
    expect(await h.rows('CREATE STAGE st1')).toEqual([{ status: 'Stage area ST1 successfully created.' }]);
    expect((await sfError(h.run('create stage ST1'))).code).toBe('002002');
    expect(await h.rows('CREATE STAGE IF NOT EXISTS st1')).toEqual([
      { status: 'ST1 already exists, statement succeeded.' },
    ]);
    expect(await h.rows('CREATE OR REPLACE STAGE db.public.st1 FILE_FORMAT = (TYPE = CSV)')).toEqual([
      { status: 'Stage area ST1 successfully created.' },
    ]);
    expect(await h.rows('DROP STAGE st1')).toEqual([{ status: 'ST1 successfully dropped.' }]);
    const missing = await sfError(h.run('DROP STAGE st1'));
    expect(missing.code).toBe('002003');
    expect(missing.message).toContain("Stage 'DB.PUBLIC.ST1' does not exist");
    expect(await h.rows('DROP STAGE IF EXISTS st1')).toEqual([
      { status: 'Drop statement executed successfully (ST1 already dropped).' },
    ]);
    expect((await sfError(h.run('LIST @nope'))).code).toBe('002003');
    expect((await sfError(h.run("CREATE STAGE ext URL = 's3://bucket/x'"))).code).toBe('002040');
  });

  it('PUT (auto-compressed) then LIST then GET round-trips the bytes', async () => {
    await h.run('CREATE STAGE rt');
    const content = Buffer.from('id,name\n1,alpha\n2,beta\n'.repeat(1000));
    const src = path.join(local, 'people.csv');
    fs.writeFileSync(src, content);

    const put = await h.transfer(`PUT file://${src} @rt/in/`);
    expect(put).toHaveLength(1);
    expect(put[0].slice(0, 2)).toEqual(['people.csv', 'people.csv.gz']);
    expect(put[0][6]).toBe('UPLOADED');

    const listed = await h.rows('LIST @rt');
    expect(listed).toHaveLength(1);
    const stored = fs.readFileSync(path.join(h.dataDir, 'stages/named/DB/PUBLIC/RT/files/in/people.csv.gz'));
    expect(listed[0].name).toBe('rt/in/people.csv.gz');
    expect(listed[0].size).toBe(String(stored.length));
    expect(listed[0].md5).toBe(md5(stored));
    expect(listed[0].last_modified).toMatch(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    expect(gunzipSync(stored).equals(content)).toBe(true);

    const target = path.join(local, 'out', 'nested');
    const got = await h.transfer(`GET @rt/in file://${target}/`);
    expect(got.map((r) => r[2])).toEqual(['DOWNLOADED']);
    expect(fs.readFileSync(path.join(target, 'people.csv.gz')).equals(stored)).toBe(true);
  });

  it('PUT with AUTO_COMPRESS=FALSE stores the file unchanged; GET honours PATTERN', async () => {
    await h.run('CREATE STAGE raw');
    const content = Buffer.from([0, 1, 2, 3, 250, 251, 252]);
    fs.writeFileSync(path.join(local, 'a.bin'), content);
    fs.writeFileSync(path.join(local, 'b.bin'), Buffer.from('other'));
    const put = await h.transfer(`PUT 'file://${local}/*.bin' @raw AUTO_COMPRESS=FALSE OVERWRITE=TRUE`);
    expect(put.map((r) => r[1]).sort()).toEqual(['a.bin', 'b.bin']);
    expect((await h.rows('LIST @raw')).map((r) => r.name)).toEqual(['raw/a.bin', 'raw/b.bin']);
    const target = path.join(local, 'got');
    const got = await h.transfer(`GET @raw file://${target} PATTERN='.*a\\.bin'`);
    expect(got.map((r) => r[0])).toEqual(['a.bin']);
    expect(fs.readFileSync(path.join(target, 'a.bin')).equals(content)).toBe(true);
    expect(fs.existsSync(path.join(target, 'b.bin'))).toBe(false);
  });

  it('REMOVE honours a path prefix and PATTERN', async () => {
    await h.run('CREATE STAGE rm');
    const dir = fs.mkdtempSync(path.join(local, 'rm-'));
    for (const f of ['x1.csv', 'x2.csv', 'y1.csv']) fs.writeFileSync(path.join(dir, f), f);
    await h.transfer(`PUT file://${dir}/x*.csv @rm/keep/ AUTO_COMPRESS=FALSE`);
    await h.transfer(`PUT file://${dir}/*.csv @rm/drop/ AUTO_COMPRESS=FALSE`);
    expect(await h.rows("REMOVE @rm/drop PATTERN = '.*x[0-9]\\.csv'")).toEqual([
      { name: 'rm/drop/x1.csv', result: 'removed' },
      { name: 'rm/drop/x2.csv', result: 'removed' },
    ]);
    expect((await h.rows('LS @rm')).map((r) => r.name)).toEqual(['rm/drop/y1.csv', 'rm/keep/x1.csv', 'rm/keep/x2.csv']);
    expect((await h.rows('RM @rm/keep/x1')).map((r) => r.name)).toEqual(['rm/keep/x1.csv']);
    expect((await h.rows('LIST @rm')).map((r) => r.name)).toEqual(['rm/drop/y1.csv', 'rm/keep/x2.csv']);
    expect(await h.rows("REMOVE @rm PATTERN='nothing'")).toEqual([]);
  });

  it('user stage @~ and table stage @%t list names without a stage prefix; @%t needs the table', async () => {
    fs.writeFileSync(path.join(local, 'u.txt'), 'u');
    await h.transfer(`PUT file://${local}/u.txt @~/staged AUTO_COMPRESS=FALSE`);
    expect((await h.rows('LIST @~/staged')).map((r) => r.name)).toEqual(['staged/u.txt']);
    expect((await sfError(h.run('LIST @%missing'))).code).toBe('002003');
    await h.conn.run('CREATE TABLE "DB"."PUBLIC"."T1" (a INT)');
    await h.transfer(`PUT file://${local}/u.txt @%t1 AUTO_COMPRESS=FALSE`);
    expect((await h.rows('LIST @%T1')).map((r) => r.name)).toEqual(['u.txt']);
  });

  it('a temporary stage is private to its session and disappears when the session ends', async () => {
    await h.run('CREATE TEMPORARY STAGE tmp_st');
    fs.writeFileSync(path.join(local, 't.txt'), 't');
    await h.transfer(`PUT file://${local}/t.txt @tmp_st AUTO_COMPRESS=FALSE`);
    expect(await h.rows('LIST @tmp_st')).toHaveLength(1);

    const other = await createHarness('session-2', h.dataDir);
    try {
      expect((await sfError(other.run('LIST @tmp_st'))).code).toBe('002003');
    } finally {
      other.close();
    }
    await dropSessionStages(h.dataDir, 'session-1');
    expect((await sfError(h.run('LIST @tmp_st'))).code).toBe('002003');
    expect(fs.existsSync(path.join(h.dataDir, 'stages/temp/session-1'))).toBe(false);
  });

  it('refuses unknown options and path traversal', async () => {
    await h.run('CREATE STAGE opts');
    expect((await sfError(h.run(`PUT file:///tmp/x @opts BOGUS=1`))).code).toBe('002040');
    expect((await sfError(h.run('LIST @opts/../../etc'))).code).toBe('001003');
    expect((await sfError(h.run('CREATE STAGE bad FILE_FORMAT = (TYPE = XML)'))).code).toBe('002040');
  });
});
