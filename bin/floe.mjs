#!/usr/bin/env node
// The `floe` command (package.json "bin"; `npx floe --help`): runs src/cli/main.ts through tsx's loader.
import process from 'node:process';
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
