/**
 * The measuring tools' command lines (`npm run fuzz | burst | soak`): `--help` lists every option
 * with its default and exits 0 without starting anything; an unknown option or a value that is not
 * a number is one line naming it, exit 2, no stack trace.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/config';

const run = async (tool: string, args: string[]) => {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, 'scripts', `${tool}.ts`), ...args],
      { cwd: REPO_ROOT, timeout: 60_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
};

describe.each([
  [
    'fuzz',
    ['--seed', '--header-cases', '--requests', '--concurrency', '--only', '--model', '--out'],
    '--requests',
  ],
  ['burst', ['--concurrency', '--photo', '--edge-timeout-ms', '--out'], '--concurrency'],
  [
    'soak',
    [
      '--requests',
      '--concurrency',
      '--seed',
      '--miss-share',
      '--only',
      '--heap',
      '--baseline',
      '--rest-s',
      '--out',
    ],
    '--requests',
  ],
] as const)('npm run %s', (tool, options, numeric) => {
  it('--help lists every option and exits 0', async () => {
    const { code, stdout } = await run(tool, ['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain(`npm run ${tool} -- [options]`);
    for (const option of options) expect(stdout).toMatch(new RegExp(`^  ${option}\\b`, 'm'));
    expect(stdout).toMatch(/\(default \d+\)/);
  }, 90_000);

  it('an unknown option or a non-number: one line, exit 2', async () => {
    const unknown = await run(tool, ['--no-such-option']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim()).toBe(`npm run ${tool}: Unknown option '--no-such-option' (see --help)`);
    const notNumber = await run(tool, [numeric, 'many']);
    expect(notNumber.code).toBe(2);
    expect(notNumber.stderr.trim()).toMatch(
      new RegExp(`^npm run ${tool}: ${numeric} must be a number .* not "many"`),
    );
  }, 90_000);
});
