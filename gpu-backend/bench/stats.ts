export interface Summary {
  n: number;
  median: number;
  p90: number;
  min: number;
  max: number;
  mean: number;
}

/** Median (mean of the middle two for an even count) and nearest-rank p90. */
export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new RangeError('summarize: expected at least one sample; got none');
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  const mid = Math.floor(n / 2);
  const median = n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return {
    n,
    median,
    p90: sorted[Math.ceil(0.9 * n) - 1]!,
    min: sorted[0]!,
    max: sorted[n - 1]!,
    mean: sorted.reduce((sum, v) => sum + v, 0) / n,
  };
}

/** Nearest-rank percentile (`q` from 0 to 100) of unsorted samples. */
export function percentile(samples: readonly number[], q: number): number {
  if (samples.length === 0) throw new RangeError('percentile: expected at least one sample; got none');
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((q / 100) * sorted.length))) - 1]!;
}
