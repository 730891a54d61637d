/** Workflow entry of the execution upload suites (bundled alone, so the suites do not depend on src/workflows/index.ts). */
export { executionUpload, executionUploadDrain } from '../src/workflows/executionUpload.js';
