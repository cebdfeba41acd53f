/** Where the installer writes its human-readable lines (stderr by default). */
export type LogLine = (line: string) => void;

export const logToStderr: LogLine = (line) => {
  process.stderr.write(`${line}\n`);
};

/** 88188479 -> "88.2 MB" (decimal units, as `ls -lh --si` and download tools print them). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)} kB`;
  if (bytes < 1e9) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e9).toFixed(2)} GB`;
}

export interface ByteProgress {
  /** Count `bytes` more; `detail` (e.g. "chunk 3/22") is shown with the next line printed. */
  add(bytes: number, detail?: string): void;
  /** Print the final line: total bytes and the time taken. */
  finish(): void;
}

/**
 * Progress for a long copy, download or reassembly: one line at most every `intervalMs`, plus a
 * last line. Plain lines rather than a redrawn bar, so that CI logs stay readable.
 */
export function createByteProgress(
  label: string,
  total: number | null,
  log: LogLine,
  intervalMs = 1000,
): ByteProgress {
  const started = Date.now();
  let done = 0;
  let lastPrinted = started;
  let lastDetail = '';
  const describe = (): string => {
    const amount =
      total === null
        ? formatBytes(done)
        : `${formatBytes(done)} / ${formatBytes(total)} (${Math.floor((done / Math.max(total, 1)) * 100)}%)`;
    return lastDetail === '' ? amount : `${lastDetail}, ${amount}`;
  };
  return {
    add(bytes, detail) {
      done += bytes;
      if (detail !== undefined) lastDetail = detail;
      const now = Date.now();
      if (now - lastPrinted >= intervalMs) {
        lastPrinted = now;
        log(`  ${label}: ${describe()}`);
      }
    },
    finish() {
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      log(`  ${label}: ${describe()} in ${seconds} s`);
    },
  };
}

/** Pass chunks through unchanged, counting their bytes. */
export async function* countingProgress<T extends Uint8Array>(
  chunks: AsyncIterable<T>,
  progress: ByteProgress,
): AsyncGenerator<T> {
  for await (const chunk of chunks) {
    progress.add(chunk.length);
    yield chunk;
  }
  progress.finish();
}

/** The message of an error and of its cause (fetch hides the useful part, e.g. ENOTFOUND, there). */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? error.cause.message : undefined;
  return cause !== undefined && !error.message.includes(cause) ? `${error.message}: ${cause}` : error.message;
}
