import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export interface FileDigests {
  sha256: string;
  md5: string;
  bytes: number;
}

/** SHA-256 and MD5 of a file, streamed (weights are hundreds of MB; never read whole). */
export async function digestFile(path: string): Promise<FileDigests> {
  const sha256 = createHash('sha256');
  const md5 = createHash('md5');
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    sha256.update(chunk);
    md5.update(chunk);
    bytes += chunk.length;
  }
  return { sha256: sha256.digest('hex'), md5: md5.digest('hex'), bytes };
}

export interface PinnedDigests {
  sha256: string | null;
  md5: string | null;
  bytes: number | null;
}

/** Why a file does not match what the manifest pins, or undefined when it matches. */
export function digestMismatch(actual: FileDigests, pinned: PinnedDigests): string | undefined {
  if (pinned.bytes !== null && actual.bytes !== pinned.bytes) {
    return `size is ${actual.bytes} bytes, the manifest pins ${pinned.bytes}`;
  }
  if (pinned.sha256 !== null && actual.sha256 !== pinned.sha256) {
    return `sha256 is ${actual.sha256}, the manifest pins ${pinned.sha256}`;
  }
  if (pinned.md5 !== null && actual.md5 !== pinned.md5) {
    return `md5 is ${actual.md5}, the manifest pins ${pinned.md5}`;
  }
  if (pinned.sha256 === null && pinned.md5 === null) return 'the manifest pins no checksum for this model';
  return undefined;
}
