/** Every job scenario, by kind. */
import type { JobKind, Scenario } from './scenario.js';
import { cacheRefresh } from './cache-refresh.js';
import { executionUpload } from './execution-upload.js';
import { tableSync } from './table-sync.js';
import { watermarkSync } from './watermark-sync.js';

export const SCENARIOS: Record<JobKind, Scenario> = {
  'table-sync': tableSync,
  'watermark-sync': watermarkSync,
  'cache-refresh': cacheRefresh,
  'execution-upload': executionUpload,
};
