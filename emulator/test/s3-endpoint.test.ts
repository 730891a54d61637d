/**
 * The emulator's S3-compatible endpoint over its stages (src/s3-endpoint.ts), which the Python connector 5.x and
 * gosnowflake use (python-connector.test.ts and gosnowflake.test.ts drive it with the real clients). Here, which
 * client's PUT/GET are sent to it, and raw S3 requests: what a session's token may read and write, and what is
 * refused.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3EndpointFormFor } from '../src/s3-endpoint.js';
import { connect, destroy, exec, suiteEmulator, wireSession, type Conn } from './helpers.js';

const emu = suiteEmulator();
let conn: Conn;
let token: string;
beforeAll(async () => {
  conn = await connect(emu());
  await exec(conn, 'create database s3db');
  await exec(conn, 'create table s3db.public.t (a int)');
  token = String((await wireSession(emu())).login.data.token);
});
afterAll(() => destroy(conn));

const key = 'table/S3DB/PUBLIC/T/files/in/rows.csv';
const s3 = (path: string, init: RequestInit & { token?: string | null } = {}) =>
  fetch(`${emu().url}/floe-stages/${path}`, {
    ...init,
    headers: {
      ...(init.token === null ? {} : { 'x-amz-security-token': init.token ?? token }),
      ...(init.headers as Record<string, string>),
    },
  });

describe('S3-compatible stage endpoint', () => {
  it('takes PUT and GET of the Python connector 5.x, GET alone of gosnowflake, nothing of other clients', () => {
    const forms = (id: string, version: string) =>
      (['UPLOAD', 'DOWNLOAD'] as const).map((command) => s3EndpointFormFor({ id, version }, command));
    expect(forms('PythonConnector', '5.2.0')).toEqual(['url', 'url']);
    expect(forms('PythonConnector', '4.8.1')).toEqual([null, null]);
    expect(forms('Go', '1.19.1')).toEqual([null, 'host']);
    expect(forms('JavaScript', '2.3.0')).toEqual([null, null]);
    expect(forms('', '')).toEqual([null, null]);
  });

  it('stores, describes and returns a table stage file that LIST and COPY then see', async () => {
    expect((await s3(key, { method: 'HEAD' })).status).toBe(404);
    const put = await s3(key, { method: 'PUT', body: '1\n2\n', headers: { 'If-None-Match': '*' } });
    expect(put.status).toBe(200);
    const head = await s3(key, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('4');
    expect(head.headers.get('x-amz-meta-sfc-digest')).toBe(createHash('sha256').update('1\n2\n').digest('base64'));
    const got = await s3(key);
    expect(await got.text()).toBe('1\n2\n');
    const again = await s3(key, { method: 'PUT', body: 'x', headers: { 'If-None-Match': '*' } });
    expect(again.status).toBe(412);
    expect(await again.text()).toContain('<Code>PreconditionFailed</Code>');

    expect((await exec(conn, 'list @s3db.public.%t')).map((r) => r.name)).toEqual(['in/rows.csv']);
    await exec(conn, 'copy into s3db.public.t from @s3db.public.%t file_format = (type = csv)');
    expect(await exec(conn, 'select sum(a) as s from s3db.public.t')).toEqual([{ S: 3 }]);
    expect(await (await s3('table/S3DB/PUBLIC/T/files/none')).text()).toContain('<Code>NoSuchKey</Code>');
  });

  it('refuses requests without a live session token, keys outside stage files, and other sessions’ temporary stages', async () => {
    for (const t of [null, 'not-a-session']) {
      const r = await s3(key, { token: t });
      expect(r.status).toBe(403);
      expect(await r.text()).toContain('<Code>AccessDenied</Code>');
    }
    for (const outside of [
      'formats/S3DB/PUBLIC/F.json',
      '.work/x',
      'table/S3DB/PUBLIC/T/files/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/users.json',
      'table/S3DB/PUBLIC/T/stage.json',
    ])
      expect((await s3(outside)).status).toBe(403);
    const other = (await wireSession(emu())).login.data.token;
    expect((await s3(`temp/${String(other)}/S3DB/PUBLIC/TMP/files/a`, { method: 'PUT', body: 'x' })).status).toBe(403);
    expect((await s3(`temp/${token}/S3DB/PUBLIC/TMP/files/a`, { method: 'PUT', body: 'x' })).status).toBe(200);
  });
});
