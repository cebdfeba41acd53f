/**
 * The harness runs the real pipeline several times per photo (raw and refined, matte and cutout);
 * the model's output depends only on the model and the decoded input, so it is computed once per
 * photo and kept in memory and, optionally, on disk (keyed by the model's pinned hash and the
 * input pixels), so a rerun after a change to the post-processing skips the model entirely.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelSpec } from '@bgremove/shared';

export interface RunResultLike {
  kind: 'ran';
  matte: Uint8Array;
  timings: { preprocessMs: number; inferenceMs: number; postprocessMs: number };
}

/** What the pipeline needs of the engine that runs models. */
export interface EngineLike {
  resolve(id: string | undefined): ModelSpec;
  run(id: string, rgb: Uint8Array, width: number, height: number): Promise<RunResultLike>;
}

export class CachingEngine implements EngineLike {
  readonly memory = new Map<string, RunResultLike>();
  modelRuns = 0;
  cacheHits = 0;

  constructor(
    private readonly inner: EngineLike,
    private readonly dir: string | undefined,
  ) {
    if (dir) mkdirSync(dir, { recursive: true });
  }

  resolve(id: string | undefined): ModelSpec {
    return this.inner.resolve(id);
  }

  async run(id: string, rgb: Uint8Array, width: number, height: number): Promise<RunResultLike> {
    const spec = this.inner.resolve(id);
    const key = createHash('sha256')
      .update(`${spec.id}\n${spec.sha256 ?? ''}\n${width}x${height}\n`)
      .update(rgb)
      .digest('hex');
    const inMemory = this.memory.get(key);
    if (inMemory) {
      this.cacheHits++;
      return { ...inMemory, matte: inMemory.matte.slice() };
    }
    const file = this.dir ? join(this.dir, `${key}.matte`) : undefined;
    if (file && existsSync(file)) {
      const bytes = readFileSync(file);
      if (bytes.length === width * height) {
        this.cacheHits++;
        const result: RunResultLike = {
          kind: 'ran',
          matte: new Uint8Array(bytes),
          timings: { preprocessMs: 0, inferenceMs: 0, postprocessMs: 0 },
        };
        this.memory.set(key, result);
        return { ...result, matte: result.matte.slice() };
      }
    }
    const result = await this.inner.run(id, rgb, width, height);
    this.modelRuns++;
    this.memory.set(key, { ...result, matte: result.matte.slice() });
    if (file) writeFileSync(file, result.matte);
    return result;
  }
}
