// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'fs',
  'path',
  'os',
  'child_process',
  'http',
  'https',
  'net',
  'crypto',
  'stream',
  'url',
  'util',
  'worker_threads',
  'zlib',
  'events',
  'timers',
];

export default tseslint.config(
  { ignores: ['node_modules/**', '.floe/**', 'dist/**', '.tmp-*/**'] },
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
    // The bootstrap is plain Node (it runs before node_modules exists): Node's globals, no TypeScript.
    files: ['scripts/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', setTimeout: 'readonly' } },
  },
  {
    // Workflow code is replayed in Temporal's sandbox: at run time it may import only
    // @temporalio/workflow (and @temporalio/common's pure helpers) and floe's own pure modules
    // (job contracts, shared vocabulary); anything else only as a type.
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'Node built-ins are not deterministic: not in workflow code',
          })),
          patterns: [
            {
              regex: '^(?!@temporalio/(workflow|common)$|\\.{1,2}/)',
              allowTypeImports: true,
              message: 'workflows import packages other than @temporalio/workflow as types only',
            },
            {
              regex:
                '^\\.\\./(activities|config|db|connectors|api|client|infra|credentials|secrets)(/|\\.js$)|^\\.\\./jobs/(registry\\.js|[^/]+/job\\.js)$',
              allowTypeImports: true,
              message: 'workflows import activities and I/O modules as types only',
            },
          ],
        },
      ],
    },
  },
);
