/**
 * Log line format: LOG_FORMAT=json|pretty chooses, otherwise pretty (pino-pretty) when stdout is a
 * terminal and JSON when it is not. Pretty lines hide the same secrets as JSON lines. The process-level
 * cases run a real Node process with stdout a pipe, and under `script` (util-linux) with stdout a
 * pseudo-terminal.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { createLogger, logFormatFor } from '../../src/logger.js';
import { testEnv } from '../helpers/env.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LOG_ONE_LINE = `import('./src/logger.ts').then((m) => m.logger.info({ password: 'hunter2' }, 'hello'))`;

function capture(format: 'json' | 'pretty'): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, log: createLogger({ format, destination: { write: (s: string) => void lines.push(s) } }) };
}

/** Run one log call in a fresh Node process with `env` added; returns its stdout. */
function logInChild(env: Record<string, string | undefined>): string {
  return execFileSync(process.execPath, ['--import', 'tsx', '-e', LOG_ONE_LINE], {
    cwd: ROOT,
    env: { ...process.env, LOG_FORMAT: undefined, ...env },
    encoding: 'utf8',
  });
}

const hasScript = spawnSync('script', ['--version']).status === 0;

describe('log format', () => {
  it('LOG_FORMAT wins; unset, a terminal gets pretty lines and anything else JSON', () => {
    expect(logFormatFor('json', true)).toBe('json');
    expect(logFormatFor('pretty', false)).toBe('pretty');
    expect(logFormatFor(undefined, true)).toBe('pretty');
    expect(logFormatFor(undefined, false)).toBe('json');
  });

  it('pretty lines are readable and hide secrets like the JSON lines do', () => {
    const pretty = capture('pretty');
    pretty.log.info({ password: 'hunter2', url: 'postgres://floe:s3cret@db/floe' }, 'connected');
    const text = pretty.lines.join('');
    expect(() => JSON.parse(text)).toThrow();
    expect(text).toMatch(/INFO.*connected/);
    expect(text).toContain('[redacted]');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('s3cret');
    const json = capture('json');
    json.log.info({ password: 'hunter2' }, 'connected');
    expect(JSON.parse(json.lines[0]!)).toMatchObject({ msg: 'connected', password: '[redacted]' });
  });

  it('a LOG_FORMAT floe does not know stops start-up naming it', () => {
    expect(() => loadConfig(testEnv({ LOG_FORMAT: 'xml' }))).toThrow(ConfigError);
    expect(() => loadConfig(testEnv({ LOG_FORMAT: 'xml' }))).toThrow(/LOG_FORMAT/);
    expect(loadConfig(testEnv({ LOG_FORMAT: 'pretty' })).logFormat).toBe('pretty');
  });

  it('a process whose stdout is a pipe writes JSON unless LOG_FORMAT=pretty', () => {
    expect(JSON.parse(logInChild({}))).toMatchObject({ msg: 'hello', password: '[redacted]' });
    const pretty = logInChild({ LOG_FORMAT: 'pretty' });
    expect(pretty).toMatch(/INFO \(floe\): hello/);
    expect(pretty).not.toContain('hunter2');
  });

  it.skipIf(!hasScript)(
    'a process whose stdout is a terminal writes coloured pretty lines unless LOG_FORMAT=json',
    () => {
      const onTty = (env: Record<string, string | undefined>) =>
        execFileSync('script', ['-qc', `"${process.execPath}" --import tsx -e "${LOG_ONE_LINE}"`, '/dev/null'], {
          cwd: ROOT,
          env: { ...process.env, LOG_FORMAT: undefined, ...env },
          encoding: 'utf8',
        });
      const pretty = onTty({});
      expect(pretty).toContain('\x1b[');
      expect(pretty).toMatch(/INFO.*\(floe\).*hello/);
      expect(JSON.parse(onTty({ LOG_FORMAT: 'json' }).trim())).toMatchObject({ msg: 'hello' });
    },
  );
});
