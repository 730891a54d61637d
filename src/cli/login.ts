/**
 * `floe login [--username u] [--password-stdin]` signs in (`POST /api/v1/auth/token`) and saves the URL
 * and token for later commands (src/cli/settings.ts, mode 0600); `floe logout` revokes the token and
 * deletes the file. The password never comes from a flag (it would show in `ps` and shell history): it is
 * read from stdin with `--password-stdin`, from `FLOE_PASSWORD`, or typed at a terminal prompt.
 */
import type { Command } from 'commander';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { envValue } from '../config.js';
import type { Ctx, Runner } from './context.js';
import { CliError, EXIT } from './errors.js';
import { routes } from './routes.js';
import { forgetLogin, readSavedLogin, saveLogin } from './settings.js';

const tokenAnswer = z.looseObject({ access_token: z.string().min(1), expires_in: z.number().positive() });

/** Read a password at the terminal without echoing it. */
async function promptPassword(prompt: string): Promise<string> {
  if (!process.stdin.isTTY) throw new CliError('no password: use --password-stdin or FLOE_PASSWORD', EXIT.usage);
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  process.stderr.write(prompt);
  // Mute the echo of typed characters: readline writes them through _writeToOutput.
  (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => undefined;
  try {
    return await new Promise<string>((resolve) => rl.question('', resolve));
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}

async function passwordFor(ctx: Ctx, fromStdin: boolean, username: string): Promise<string> {
  if (fromStdin) return (await ctx.io.readStdin()).replace(/\r?\n$/, '');
  return envValue('FLOE_PASSWORD') ?? (await promptPassword(`password for ${username} at ${ctx.target.url}: `));
}

/** Register `login` and `logout` on `program`. */
export function registerLoginCommands(program: Command, run: Runner): void {
  program
    .command('login')
    .description('sign in and save the API URL and token under your home directory (mode 0600)')
    .option('--username <name>', 'API user', envValue('FLOE_USERNAME') ?? 'admin')
    .option('--password-stdin', 'read the password from stdin')
    .action(
      run(async (ctx, opts: { username: string; passwordStdin?: boolean }) => {
        const password = await passwordFor(ctx, opts.passwordStdin === true, opts.username);
        if (!password) throw new CliError('empty password', EXIT.usage);
        const r = await ctx.api('POST', routes.auth.token, tokenAnswer, {
          form: { username: opts.username, password },
        });
        const expiresAt = new Date(Date.now() + r.expires_in * 1000).toISOString();
        const file = saveLogin({
          url: ctx.target.url,
          token: r.access_token,
          username: opts.username,
          expires_at: expiresAt,
        });
        const out = { url: ctx.target.url, username: opts.username, expires_at: expiresAt, config_file: file };
        ctx.emit(
          out,
          (d) => `signed in to ${d.url} as ${d.username} (token saved to ${d.config_file}, expires ${d.expires_at})`,
        );
      }),
    );

  program
    .command('logout')
    .description('revoke the saved token and delete the saved login')
    .action(
      run(async (ctx) => {
        const saved = readSavedLogin();
        if (saved && ctx.target.token === saved.token)
          await ctx
            .api('POST', routes.auth.revoke, z.looseObject({ revoked: z.boolean() }), { body: {} })
            .catch((err) => {
              // An expired or already revoked token is as good as revoked.
              if (!(err instanceof CliError) || err.exitCode !== EXIT.auth) throw err;
            });
        const removed = forgetLogin();
        ctx.emit({ logged_out: removed }, (d) => (d.logged_out ? 'signed out' : 'not signed in'));
      }),
    );
}
