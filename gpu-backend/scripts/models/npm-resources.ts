import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { SHA256_HEX } from '@bgremove/shared';
import { writeChunks } from './partial-file';
import { createByteProgress, type ByteProgress, type LogLine } from './progress';

/**
 * IMG.LY's `dist/resources.json`: for each resource ("/models/medium"), its chunks in order, each
 * a file in `dist/` named by its own SHA-256, with the byte range it covers, and the total size:
 * `{ "/models/medium": { "chunks": [{ "hash": "fe1b…", "offsets": [0, 4194304] }, …], "size": 88188479 } }`
 */
const chunkSchema = z.object({
  hash: z.string().regex(SHA256_HEX, 'a lowercase hex SHA-256'),
  offsets: z.tuple([z.number().int().nonnegative(), z.number().int().positive()]).optional(),
});
const resourceSchema = z.object({
  chunks: z.array(chunkSchema).min(1),
  size: z.number().int().nonnegative().optional(),
  mime: z.string().optional(),
});
export const resourcesFileSchema = z.record(z.string(), resourceSchema);
export type ResourcesFile = z.infer<typeof resourcesFileSchema>;
export type ResourceChunk = z.infer<typeof chunkSchema>;

export async function readResourcesFile(distDir: string): Promise<ResourcesFile> {
  const path = join(distDir, 'resources.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new Error('the package has no dist/resources.json');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error('dist/resources.json is not valid JSON');
  }
  const parsed = resourcesFileSchema.safeParse(json);
  if (!parsed.success)
    throw new Error(`dist/resources.json is not in IMG.LY's format: ${parsed.error.message}`);
  return parsed.data;
}

/** Check one chunk against its entry: name = SHA-256 of its bytes, length = its offset range. */
function chunkProblem(data: Buffer, chunk: ResourceChunk, position: number): string | undefined {
  if (chunk.offsets !== undefined) {
    const [start, end] = chunk.offsets;
    if (start !== position) return `starts at byte ${start}, but the previous chunks end at ${position}`;
    if (data.length !== end - start)
      return `is ${data.length} bytes, its offsets [${start}, ${end}) say ${end - start}`;
  }
  const sha256 = createHash('sha256').update(data).digest('hex');
  if (sha256 !== chunk.hash) return `has sha256 ${sha256}, not the ${chunk.hash} it is named by`;
  return undefined;
}

/** Yield the resource's chunks in order, each verified before it is handed on. */
async function* verifiedChunks(
  distDir: string,
  name: string,
  chunks: ResourceChunk[],
  progress: ByteProgress,
): AsyncGenerator<Buffer> {
  let position = 0;
  for (const [index, chunk] of chunks.entries()) {
    const label = `chunk ${index + 1}/${chunks.length} (${chunk.hash.slice(0, 12)}…) of ${name}`;
    let data: Buffer;
    try {
      data = await readFile(join(distDir, chunk.hash));
    } catch {
      throw new Error(`${label} is missing from the package`);
    }
    const problem = chunkProblem(data, chunk, position);
    if (problem !== undefined) throw new Error(`${label} ${problem}`);
    position += data.length;
    progress.add(data.length, `chunk ${index + 1}/${chunks.length}`);
    yield data;
  }
  progress.finish();
}

/**
 * Reassemble resource `name` from an unpacked package's `dist/` into `destPath`, verifying every
 * chunk and the total size on the way. The caller still verifies the whole file against the manifest.
 */
export async function assembleResource(
  distDir: string,
  name: string,
  destPath: string,
  log: LogLine,
): Promise<void> {
  const resources = await readResourcesFile(distDir);
  const resource = resources[name];
  if (resource === undefined) {
    throw new Error(
      `dist/resources.json has no resource ${name} (it has: ${Object.keys(resources).join(', ')})`,
    );
  }
  const total = resource.size ?? resource.chunks.at(-1)?.offsets?.[1] ?? null;
  const progress = createByteProgress(`assembling ${name}`, total, log);
  const written = await writeChunks(verifiedChunks(distDir, name, resource.chunks, progress), destPath);
  if (resource.size !== undefined && written !== resource.size) {
    throw new Error(`the chunks of ${name} add up to ${written} bytes, resources.json says ${resource.size}`);
  }
}
