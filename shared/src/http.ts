/** HTTP helpers both services use the same way: request ids and Server-Timing. */

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The caller's X-Request-Id when it is sane (1–128 of `A-Za-z0-9_.:-`), else a fresh UUID. */
export function requestIdFrom(incoming: string | null | undefined): string {
  return incoming && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
}

/**
 * A Server-Timing header from named durations in milliseconds, rounded to 0.1 ms; undefined and
 * non-finite ones are left out. `{ edge: 18, backend: 1229.46 }` → `edge;dur=18, backend;dur=1229.5`.
 */
export function serverTiming(entries: Record<string, number | undefined>): string {
  return Object.entries(entries)
    .filter((entry): entry is [string, number] => entry[1] !== undefined && Number.isFinite(entry[1]))
    .map(([name, ms]) => `${name};dur=${Math.round(ms * 10) / 10}`)
    .join(', ');
}

/** The durations of a Server-Timing header by name (`decode;dur=12.3, x` → `{ decode: 12.3 }`). */
export function parseServerTiming(header: string | null | undefined): Record<string, number> {
  const durations: Record<string, number> = {};
  for (const metric of (header ?? '').split(',')) {
    const [name, ...params] = metric.split(';').map((part) => part.trim());
    const dur = params.find((param) => param.startsWith('dur='));
    const ms = Number(dur?.slice(4));
    if (name && dur && Number.isFinite(ms)) durations[name] = ms;
  }
  return durations;
}
