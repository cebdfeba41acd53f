/**
 * Fails when the Worker's modules import each other in a cycle, type-only imports included (run
 * by `npm test -w edge`). The config parsers, for one, must import nothing that imports the
 * config back. Tests (`*.test.ts`) are left out; the generated worker-configuration.d.ts is not
 * under src/.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../src', import.meta.url));
const IMPORT =
  /^\s*(?:import|export)\b[^'";]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** A relative specifier as the bundler resolves it: file.ts, file.d.ts or folder/index.ts. */
function resolveSpec(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = resolve(dirname(from), spec);
  return [`${base}.ts`, `${base}.d.ts`, join(base, 'index.ts')].find((path) => existsSync(path));
}

const graph = new Map<string, string[]>();
for (const file of sources(SRC)) {
  const text = readFileSync(file, 'utf8');
  const targets = [...text.matchAll(IMPORT)]
    .map((match) => resolveSpec(file, (match[1] ?? match[2] ?? match[3])!))
    .filter((target): target is string => target !== undefined);
  graph.set(file, [...new Set(targets)]);
}

// Depth-first search; a back edge to a file on the current path closes a cycle.
const cycles: string[][] = [];
const done = new Set<string>();
const visit = (file: string, path: string[]) => {
  for (const next of graph.get(file) ?? []) {
    const at = path.indexOf(next);
    if (at >= 0) cycles.push([...path.slice(at), next]);
    else if (!done.has(next)) visit(next, [...path, next]);
  }
  done.add(file);
};
for (const file of graph.keys()) if (!done.has(file)) visit(file, [file]);

if (cycles.length > 0) {
  const shown = cycles.map((cycle) => `  ${cycle.map((file) => relative(SRC, file)).join(' -> ')}`);
  console.error(`edge/src has import cycles (type-only imports count too):\n${shown.join('\n')}`);
  process.exitCode = 1;
} else {
  console.log(`edge/src: no import cycles among ${graph.size} modules.`);
}
