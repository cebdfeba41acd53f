/**
 * The backend's layers depend one way: routes → pipeline → models → inference. ONNX Runtime is
 * imported only under inference/, and inference/ imports nothing of the app above it. A new
 * import against that direction fails here, naming the file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = dirname(fileURLToPath(import.meta.url));

interface Import {
  file: string;
  /** The importing file's folder under src/ (its name, for a file in src/). */
  from: string;
  /** A package name, or the imported file's folder under src/ (or its name, for a file in src/). */
  to: string;
  relative: boolean;
}

function imports(): Import[] {
  const found: Import[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
        const text = readFileSync(path, 'utf8');
        const from = relative(SRC, dir).split('/')[0] ?? '';
        const pattern =
          /^\s*(?:import|export)\b[^'";]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;
        for (const match of text.matchAll(pattern)) {
          const spec = (match[1] ?? match[2] ?? match[3])!;
          const isRelative = spec.startsWith('.');
          const to = isRelative ? (relative(SRC, resolve(dir, spec)).split('/')[0] ?? '') : spec;
          found.push({ file: relative(SRC, path), from, to, relative: isRelative });
        }
      }
    }
  };
  walk(SRC);
  return found;
}

const all = imports();
const offending = (rule: (i: Import) => boolean) => all.filter(rule).map((i) => `${i.file} imports ${i.to}`);

describe('backend layers', () => {
  it('finds the imports it checks', () => {
    expect(all.some((i) => i.from === 'pipeline' && i.to === 'models')).toBe(true);
  });

  it('onnxruntime-node is imported only under inference/', () => {
    expect(offending((i) => i.to === 'onnxruntime-node' && i.from !== 'inference')).toEqual([]);
  });

  it('inference/ imports nothing of the app above it', () => {
    expect(offending((i) => i.from === 'inference' && i.relative && i.to !== 'inference')).toEqual([]);
  });

  it('models/ imports only inference/, config and observability', () => {
    const allowed = new Set(['models', 'inference', 'observability', 'config']);
    expect(offending((i) => i.from === 'models' && i.relative && !allowed.has(i.to))).toEqual([]);
  });

  it('pipeline/ reaches the model only through models/, and knows nothing of HTTP', () => {
    const forbidden = new Set(['inference', 'routes', 'http']);
    expect(offending((i) => i.from === 'pipeline' && i.relative && forbidden.has(i.to))).toEqual([]);
  });

  it('routes/ and http/ do not reach past the pipeline into models/ or inference/ (they get an Engine)', () => {
    expect(
      offending(
        (i) =>
          (i.from === 'routes' || i.from === 'http') &&
          i.relative &&
          (i.to === 'inference' || (i.to === 'models' && !i.file.startsWith('http/context'))),
      ),
    ).toEqual([]);
  });
});
