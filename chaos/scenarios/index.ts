/** Every job scenario, by kind. */
import type { JobKind, Scenario } from './scenario.js';
import { tableSync } from './table-sync.js';
import { watermarkSync } from './watermark-sync.js';

export const SCENARIOS: Record<JobKind, Scenario> = {
  'table-sync': tableSync,
  'watermark-sync': watermarkSync,
  'cache-refresh': tableSync,
  'execution-upload': tableSync,
};
