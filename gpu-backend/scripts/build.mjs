// Bundles the backend into dist/ with esbuild: one file per entry (server, session worker, CLI),
// the workspace package inlined, npm dependencies left external (native addons, worker scripts).
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

/** @type {{ dependencies?: Record<string, string> }} */
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')); // eslint-disable-line @typescript-eslint/no-unsafe-assignment -- our own package.json
const external = Object.keys(pkg.dependencies ?? {}).filter((name) => !name.startsWith('@bgremove/'));

await build({
  entryPoints: {
    server: 'src/server.ts',
    'session-worker': 'src/inference/session-worker.ts',
    'pixel-worker': 'src/matte/pixel-worker.ts',
    cli: 'src/cli.ts',
  },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  external,
  logLevel: 'warning',
  absWorkingDir: new URL('..', import.meta.url).pathname,
  banner: { js: '#!/usr/bin/env node' },
});
