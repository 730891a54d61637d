/** Workflow entry of the cache suites (bundled alone, so they do not depend on src/workflows/index.ts). */
export { cacheRefresh, cacheRefreshScheduled } from '../../src/workflows/cacheRefresh.js';
