/**
 * The `floe` command line (bin/floe.mjs runs {@link main}): one program talking to floe's HTTP API only,
 * with a command group per module (login, tables, sync and jobs, schedules, cache and query, watermark-sync,
 * execution-upload). Global options: `--url`, `--token`, `--json`. docs/cli.md documents every command and the
 * exit codes (src/cli/errors.ts).
 */
import { Command, CommanderError } from 'commander';
import { registerCacheCommands } from './cache.js';
import { processIo, runner, type Io, type RunState } from './context.js';
import { CliError, EXIT, type ExitCode } from './errors.js';
import { registerLoginCommands } from './login.js';
import { registerWatermarkSyncCommands } from './watermarkSync.js';
import { registerQueryCommand } from './query.js';
import { registerScheduleCommands } from './schedules.js';
import { registerSyncCommands } from './sync.js';
import { registerTableCommands } from './tables.js';
import { registerExecutionUploadCommands } from './executionUpload.js';

/** Build the program; exit codes of commands land in `state`. */
export function buildProgram(io: Io, state: RunState): Command {
  const program = new Command('floe')
    .description("floe's command line: table sync, caches, watermark sync and execution upload through the HTTP API")
    .option('--url <url>', 'API base URL (default FLOE_API_URL, the saved login, or http://127.0.0.1:8000)')
    .option('--token <token>', 'bearer token (default FLOE_TOKEN or the saved login)')
    .option('--json', 'print the API’s answers as JSON (for scripts)')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  // Commands created from here on inherit exitOverride and the output streams (commander copies them).
  const run = runner(io, state);
  registerLoginCommands(program, run);
  registerTableCommands(program, run);
  registerSyncCommands(program, run);
  registerScheduleCommands(program, run);
  registerCacheCommands(program, run);
  registerQueryCommand(program, run);
  registerWatermarkSyncCommands(program, run);
  registerExecutionUploadCommands(program, run);
  return program;
}

/**
 * Run the CLI on `argv` (as `process.argv`: node, script, arguments...) and return the exit code:
 * the command's, 0 for `--help`, 2 for usage errors (commander's message is already on stderr).
 */
export async function main(argv: string[], io: Io = processIo()): Promise<ExitCode> {
  const state: RunState = { exitCode: EXIT.ok };
  try {
    await buildProgram(io, state).parseAsync(argv);
    return state.exitCode;
  } catch (err) {
    if (err instanceof CommanderError)
      return err.exitCode === 0 || err.code === 'commander.helpDisplayed' ? EXIT.ok : EXIT.usage;
    if (err instanceof CliError) {
      io.err(`floe: ${err.message}\n`);
      return err.exitCode;
    }
    io.err(`floe: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT.failed;
  }
}
