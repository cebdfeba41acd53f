/**
 * One readable line per child log line: a coloured, aligned name, then the backend's JSON lines
 * as `LEVEL message key=value`, and wrangler's lines as they are (minus colour codes and blanks).
 */

const COLOURS = { backend: 35, edge: 36, start: 32 } as const;
export type Source = keyof typeof COLOURS;

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
const SKIPPED_FIELDS = new Set(['severity', 'time', 'service', 'message', 'httpRequest', 'pid', 'hostname']);

export function prefix(source: Source, colour: boolean): string {
  const name = source.padEnd(7);
  return colour ? `\u001b[${COLOURS[source]}m${name}\u001b[0m│ ` : `${name}│ `;
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /\s/.test(value) ? JSON.stringify(value) : value;
  if (typeof value === 'number') return String(Math.round(value * 100) / 100);
  return JSON.stringify(value);
}

/** A backend JSON log line as `LEVEL message k=v ...`; anything else unchanged. */
export function formatBackendLine(line: string): string {
  if (!line.startsWith('{')) return line;
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const severity = typeof record.severity === 'string' ? record.severity : 'INFO';
  const fields = Object.entries(record)
    .filter(([key, value]) => !SKIPPED_FIELDS.has(key) && value !== undefined)
    .map(([key, value]) => `${key}=${formatValue(value)}`);
  return [
    severity === 'INFO' ? '' : severity,
    record.message === undefined ? '' : formatValue(record.message),
    ...fields,
  ]
    .filter(Boolean)
    .join(' ');
}

/** A wrangler line without colour codes; `undefined` for lines not worth showing. */
export function formatEdgeLine(line: string): string | undefined {
  const plain = line.replace(ANSI, '').trimEnd();
  return plain.trim() === '' ? undefined : plain;
}
