import { open, rename, rm } from 'node:fs/promises';
import { digestFile, digestMismatch, type FileDigests } from '../../src/inference/checksum';
import type { ModelSpec } from '@bgremove/shared';

/** Every download lands here first; only a verified file is renamed to its real name. */
export function partialPathFor(finalPath: string): string {
  return `${finalPath}.partial`;
}

/** Write `source` to `path` (created or truncated) and fsync it; returns the byte count. */
export async function writeChunks(source: AsyncIterable<Uint8Array>, path: string): Promise<number> {
  const file = await open(path, 'w');
  let written = 0;
  try {
    for await (const chunk of source) {
      await file.write(chunk);
      written += chunk.length;
    }
    await file.sync();
  } finally {
    await file.close();
  }
  return written;
}

/**
 * Verify the partial file against the manifest and rename it to its real name (atomic on one
 * file system). On a mismatch the partial file is deleted and the reason thrown.
 */
export async function promoteVerified(
  partialPath: string,
  finalPath: string,
  spec: ModelSpec,
): Promise<FileDigests> {
  const actual = await digestFile(partialPath);
  const mismatch = digestMismatch(actual, spec);
  if (mismatch !== undefined) {
    await removeQuietly(partialPath);
    throw new Error(`verification failed: ${mismatch}`);
  }
  await rename(partialPath, finalPath);
  return actual;
}

export async function removeQuietly(path: string): Promise<void> {
  await rm(path, { force: true, recursive: true });
}
