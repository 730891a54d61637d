/**
 * An S3-compatible endpoint over the emulator's internal stages, for clients that cannot use the `LOCAL_FS` stages
 * the emulator otherwise hands out ({@link s3EndpointFormFor}): the Snowflake Connector for Python 5.x (PUT and GET)
 * and gosnowflake (GET only) move those files themselves with the AWS SDK against the `stageInfo` of the query
 * response (locationType `S3`, `endPoint`, `creds`), path-style when the endpoint is an IP address, as the emulator's
 * URL is by default.
 *
 * The bucket {@link S3_BUCKET} holds `<dataDir>/stages/` (stage-store.ts); an object key is a stage file's path
 * under it (`table/DB/PUBLIC/T/files/in/a.csv.gz`). Only the `files/` trees of stages are served, a session's
 * temporary stages to that session only. Requests: HEAD and GET Object (`Content-Length`, `ETag` = MD5,
 * `x-amz-meta-sfc-digest` = base64 SHA-256 of the object, which the connector compares to skip an unchanged file),
 * PUT Object (`If-None-Match: *` refuses an existing key with 412). Errors are S3's XML bodies (NoSuchKey,
 * AccessDenied, PreconditionFailed).
 *
 * Credentials: the stage's `creds` carry the session token as `AWS_TOKEN`; a request is served only when its
 * `x-amz-security-token` is a live session's token. The SigV4 signature itself is not verified (the secret key
 * handed out is not a secret), and objects are stored unencrypted (`isClientSideEncrypted: false`, no
 * encryption material), as a server-side-encrypted stage of Snowflake is read by its clients.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { stagesRoot } from './stage-store.js';

/** The bucket name the endpoint answers to: `<endpoint>/floe-stages/<key>`. */
export const S3_BUCKET = 'floe-stages';

/** The region the stage info names (the endpoint ignores it). */
const REGION = 'us-east-1';

/** Stage file trees a key may name: user, table, named and (the owning session's) temporary stages. */
const FILE_TREES =
  /^(?:user\/files|(?:table|named)\/[^/]+\/[^/]+\/[^/]+\/files|temp\/([^/]+)\/[^/]+\/[^/]+\/[^/]+\/files)\/./;

/**
 * How a client takes the `endPoint` of an S3 stage: `'url'` the emulator's base URL as it is (the Python connector's
 * core reads its scheme), `'host'` only `host:port` (gosnowflake reaches `https://<endPoint>`).
 */
export type S3EndpointForm = 'url' | 'host';

/** The client a session logged in with: the login request's `CLIENT_APP_ID` and `CLIENT_APP_VERSION` ('' if absent). */
export interface ClientApp {
  id: string;
  version: string;
}

/**
 * Whether a PUT (`UPLOAD`) or GET (`DOWNLOAD`) of a session logged in from `client` goes through this endpoint: the
 * endpoint form for a client that cannot move those files with a `LOCAL_FS` stage, null for one that can. The Python
 * connector from 5.0 refuses `LOCAL_FS` for both ("Unknown location type: LOCAL_FS"). gosnowflake (`Go`) uploads to
 * `LOCAL_FS` stages but downloads nothing from them (its file transfer agent files every LOCAL_FS file as small and
 * downloads only the large ones, then reports 264011 "not implemented"), so only its GET is sent here: it reaches
 * the endpoint over https, which a Go program must redirect to the emulator's http address with a
 * `Config.Transporter`, and a PUT that needs no such hook keeps working with the driver's stock set-up.
 */
export function s3EndpointFormFor(client: ClientApp, command: 'UPLOAD' | 'DOWNLOAD'): S3EndpointForm | null {
  if (client.id === 'PythonConnector' && Number(client.version.split('.')[0]) >= 5) return 'url';
  if (client.id === 'Go' && command === 'DOWNLOAD') return 'host';
  return null;
}

/** The `endPoint` a client of `form` is handed for the emulator at `baseUrl`. */
export function s3EndPoint(baseUrl: string, form: S3EndpointForm): string {
  return form === 'url' ? baseUrl : new URL(baseUrl).host;
}

/**
 * The query response's `stageInfo` for a stage directory (absolute, inside `<dataDir>/stages/`) served by the
 * endpoint at `endpoint` (the emulator's base URL) to the session whose token is `sessionToken`.
 */
export function s3StageInfo(
  stageDir: string,
  dataDir: string,
  endpoint: string,
  sessionToken: string,
): Record<string, unknown> {
  const prefix = path.relative(stagesRoot(dataDir), stageDir).split(path.sep).join('/');
  return {
    locationType: 'S3',
    location: `${S3_BUCKET}/${prefix}/`,
    path: `${prefix}/`,
    region: REGION,
    endPoint: endpoint,
    useS3RegionalUrl: false,
    storageAccount: null,
    isClientSideEncrypted: false,
    creds: { AWS_KEY_ID: 'floe-emulator', AWS_SECRET_KEY: 'floe-emulator', AWS_TOKEN: sessionToken },
  };
}

/**
 * Serves one request to the endpoint when its path is in {@link S3_BUCKET}; returns false (nothing sent)
 * otherwise. `sessionOf` says whether a token is a live session's.
 */
export async function handleS3Request(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  dataDir: string,
  isLiveSession: (token: string) => boolean,
): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const [, bucket, ...segments] = url.pathname.split('/');
  if (bucket !== S3_BUCKET) return false;
  const token = String(req.headers['x-amz-security-token'] ?? '');
  const key = segments.map((s) => decodeURIComponent(s)).join('/');
  const tree = FILE_TREES.exec(key);
  const fileAt = path.join(stagesRoot(dataDir), ...key.split('/'));
  if (!token || !isLiveSession(token)) return s3Error(res, 403, 'AccessDenied', 'Invalid security token.');
  if (!tree || key.split('/').some((s) => s === '' || s === '.' || s === '..'))
    return s3Error(res, 403, 'AccessDenied', `Key ${key} is not a stage file.`);
  if (tree[1] !== undefined && decodeURIComponent(tree[1]) !== token)
    return s3Error(res, 403, 'AccessDenied', 'A temporary stage belongs to its session.');

  if (req.method === 'PUT') {
    if (req.headers['if-none-match'] === '*' && (await stat(fileAt)))
      return s3Error(res, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold.');
    // Written in the scratch space first (same file system), so LIST never sees a partial file.
    const partial = path.join(stagesRoot(dataDir), '.work', `${randomUUID()}.part`);
    await fs.mkdir(path.dirname(partial), { recursive: true });
    try {
      await pipeline(req, (await fs.open(partial, 'w')).createWriteStream());
      await fs.mkdir(path.dirname(fileAt), { recursive: true });
      await fs.rename(partial, fileAt);
    } finally {
      await fs.rm(partial, { force: true });
    }
    res.writeHead(200, { ETag: `"${await digest(fileAt, 'md5', 'hex')}"`, 'Content-Length': '0' }).end();
    return true;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') return s3Error(res, 405, 'MethodNotAllowed', req.method ?? '');
  const st = await stat(fileAt);
  if (!st) return s3Error(res, 404, 'NoSuchKey', 'The specified key does not exist.', req.method === 'HEAD');
  res.writeHead(200, {
    'Content-Length': String(st.size),
    'Content-Type': 'application/octet-stream',
    ETag: `"${await digest(fileAt, 'md5', 'hex')}"`,
    'Last-Modified': st.mtime.toUTCString(),
    'x-amz-meta-sfc-digest': await digest(fileAt, 'sha256', 'base64'),
  });
  if (req.method === 'HEAD') res.end();
  else await pipeline(createReadStream(fileAt), res);
  return true;
}

async function stat(file: string): Promise<import('node:fs').Stats | null> {
  try {
    const st = await fs.stat(file);
    return st.isFile() ? st : null;
  } catch {
    return null;
  }
}

async function digest(file: string, algorithm: 'md5' | 'sha256', encoding: 'hex' | 'base64'): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest(encoding);
}

/** An S3 error response (XML body; none for HEAD). */
function s3Error(res: http.ServerResponse, status: number, code: string, message: string, head = false): true {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error>`;
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': head ? '0' : Buffer.byteLength(body) });
  res.end(head ? undefined : body);
  return true;
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
