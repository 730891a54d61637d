// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = ['fs', 'path', 'os', 'child_process', 'http', 'https', 'net', 'crypto', 'stream', 'url', 'util', 'worker_threads', 'zlib', 'events', 'timers'];

export default tseslint.config(
  { ignores: ['node_modules/**', '.floe/**', 'dist/**', 'scripts/*.mjs', '.tmp-*/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code is replayed: it may import only @temporalio/workflow and types.
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: nodeBuiltins.flatMap((m) => [m, `node:${m}`]).concat(['pg', 'snowflake-sdk', '@duckdb/node-api', 'express', 'pino']),
        patterns: [{ group: ['../activities/*', '../config*', '../db/*'], allowTypeImports: true, message: 'workflows import activities as types only' }],
      }],
    },
  },
);
