/** Builds a Server-Timing header from named durations in milliseconds (undefined ones are left out). */
export function serverTiming(entries: Record<string, number | undefined>): string {
  return Object.entries(entries)
    .filter((entry): entry is [string, number] => entry[1] !== undefined && Number.isFinite(entry[1]))
    .map(([name, ms]) => `${name};dur=${Math.round(ms * 10) / 10}`)
    .join(', ');
}
