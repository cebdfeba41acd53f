/**
 * Fails when worker-configuration.d.ts is not what `wrangler types` generates from wrangler.toml
 * now (run first by `npm test -w edge`). `wrangler types --check` compares only the hash of the
 * config, so a hand-edited or stale file would pass it; this generates a fresh copy beside the
 * committed one (the relative import paths in it depend on where it is) and compares the text.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const edgeDir = fileURLToPath(new URL('..', import.meta.url));
const committedName = 'worker-configuration.d.ts';
const freshName = `.worker-configuration.check-${process.pid}.d.ts`;
const wrangler = createRequire(import.meta.url).resolve('wrangler/bin/wrangler.js');

const args = ['types', freshName, '--config', '../wrangler.toml', '--strict-vars=false'];
try {
  const run = spawnSync(process.execPath, [wrangler, ...args], {
    cwd: edgeDir,
    encoding: 'utf8',
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: 'false',
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
      WRANGLER_HIDE_BANNER: 'true',
    },
  });
  if (run.status !== 0) {
    throw new Error(`wrangler types failed (exit ${run.status}):\n${run.stdout}${run.stderr}`);
  }
  // The header names the output file: the only line allowed to differ.
  const fresh = readFileSync(`${edgeDir}/${freshName}`, 'utf8').replaceAll(freshName, committedName);
  const committed = readFileSync(`${edgeDir}/${committedName}`, 'utf8');
  if (fresh !== committed) {
    const freshLines = fresh.split('\n');
    const committedLines = committed.split('\n');
    const line = freshLines.findIndex((text, i) => text !== committedLines[i]);
    throw new Error(
      `edge/${committedName} is not what \`wrangler types\` generates from wrangler.toml ` +
        `(first difference at line ${line + 1}:\n  committed: ${committedLines[line] ?? '(end of file)'}\n` +
        `  generated: ${freshLines[line] ?? '(end of file)'}).\nRegenerate it: npm run types -w edge`,
    );
  }
  console.log(`edge/${committedName} is what \`wrangler types\` generates.`);
} catch (error) {
  console.error((error as Error).message);
  process.exitCode = 1;
} finally {
  rmSync(`${edgeDir}/${freshName}`, { force: true });
}
