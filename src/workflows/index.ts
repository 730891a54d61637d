/** Every floe workflow, for the worker's bundle (`workflowsPath` / `bundleWorkflowCode`). */
export { tableSync, progressQuery } from './tableSync.js';
export { watermarkSync, watermarkTableSync } from './watermarkSync.js';
export { executionUpload, executionUploadDrain } from './executionUpload.js';
export { cacheRefresh, cacheRefreshScheduled } from './cacheRefresh.js';
