/**
 * Every HTTP path the `floe` CLI calls, in one place: when a route moves (the API keeps the old path as
 * an alias for a while), this is the only file to change. Paths are relative to the API's base URL
 * (`--url`, `FLOE_API_URL` or the saved login, e.g. `http://127.0.0.1:8000`); each segment taken from the
 * user is percent-encoded. Query strings are added by the HTTP client (src/cli/http.ts).
 */

const seg = encodeURIComponent;

const V1 = '/api/v1';
const WATERMARK_SYNC = `${V1}/watermark-sync`;
const EXECUTION_UPLOAD = `${V1}/execution-upload`;

/** Route paths, grouped as the CLI's commands are. */
export const routes = {
  auth: {
    token: `${V1}/auth/token`,
    revoke: `${V1}/auth/revoke`,
  },
  tables: {
    list: (schema: string) => `${V1}/sync/tables/${seg(schema)}`,
    register: `${V1}/sync/tables/register`,
    status: (schema: string, table: string) => `${V1}/sync/tables/${seg(schema)}/${seg(table)}/status`,
  },
  tableSync: {
    start: `${V1}/sync/start`,
    jobs: `${V1}/sync/jobs`,
    job: (jobId: string) => `${V1}/sync/jobs/${seg(jobId)}`,
    cancel: (jobId: string) => `${V1}/sync/jobs/${seg(jobId)}/cancel`,
    schedules: `${V1}/sync/schedules`,
    schedule: (scheduleId: string) => `${V1}/sync/schedules/${seg(scheduleId)}`,
  },
  cache: {
    storage: `${V1}/cache/storage`,
    sources: `${V1}/cache/sources`,
    caches: `${V1}/caches`,
    cache: (name: string) => `${V1}/caches/${seg(name)}`,
    refresh: (name: string) => `${V1}/caches/${seg(name)}/refresh`,
    query: `${V1}/query`,
  },
  watermarkSync: {
    status: `${WATERMARK_SYNC}/status`,
    apply: `${WATERMARK_SYNC}/apply`,
    pause: `${WATERMARK_SYNC}/pause`,
    resume: `${WATERMARK_SYNC}/resume`,
    trigger: `${WATERMARK_SYNC}/trigger`,
    backfill: `${WATERMARK_SYNC}/backfill`,
    discover: `${WATERMARK_SYNC}/discover`,
    errors: `${WATERMARK_SYNC}/errors`,
  },
  executionUpload: {
    stats: `${EXECUTION_UPLOAD}/stats`,
    failed: `${EXECUTION_UPLOAD}/failed`,
    retry: (syncId: string) => `${EXECUTION_UPLOAD}/retry/${seg(syncId)}`,
    backfill: `${EXECUTION_UPLOAD}/backfill`,
    queue: `${EXECUTION_UPLOAD}/queue`,
  },
} as const;
