/**
 * What the backend said about a result, as it sent it ('' when unknown): its size, the subject's
 * box (`left,top,width,height`, or `none`) and how clearly the photo shows one subject (`0.000`..`1.000`).
 */
export interface ResultDetails {
  width: string;
  height: string;
  foreground: string;
  subjectConfidence: string;
}

/**
 * The first cache tier: recent results in this isolate's memory, bounded in bytes, least recently
 * used out first. Results are immutable per key, so nothing here can go stale; it saves the Cache
 * API round trip on the hottest keys. HOT_CACHE_BYTES=0 turns it off.
 */
export interface HotResult {
  body: ArrayBuffer;
  contentType: string;
  sourceSha256: string;
  details?: ResultDetails;
}

export class HotResults {
  readonly #entries = new Map<string, HotResult>();
  #bytes = 0;

  constructor(
    readonly capacityBytes: number,
    /** Larger results are never kept, so one result cannot push out many. */
    readonly maxItemBytes = Math.floor(capacityBytes / 8),
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): HotResult | undefined {
    const entry = this.#entries.get(key);
    if (entry) {
      this.#entries.delete(key);
      this.#entries.set(key, entry); // most recently used last
    }
    return entry;
  }

  set(key: string, result: HotResult): void {
    const size = result.body.byteLength;
    if (size > this.maxItemBytes || this.#entries.has(key)) return;
    this.#entries.set(key, result);
    this.#bytes += size;
    for (const [oldKey, old] of this.#entries) {
      if (this.#bytes <= this.capacityBytes) break;
      this.#entries.delete(oldKey);
      this.#bytes -= old.body.byteLength;
    }
  }
}

const byCapacity = new Map<number, HotResults>();

/** The isolate's tier for a configured capacity (one per distinct HOT_CACHE_BYTES). */
export function hotResultsFor(capacityBytes: number): HotResults | undefined {
  if (capacityBytes <= 0) return undefined;
  let hot = byCapacity.get(capacityBytes);
  if (!hot) {
    hot = new HotResults(capacityBytes);
    byCapacity.set(capacityBytes, hot);
  }
  return hot;
}
