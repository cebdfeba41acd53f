/**
 * Command-line options for the measuring tools (`npm run fuzz | burst | soak`): node's parseArgs,
 * plus `--help` / `-h`, which prints the tool's usage and every option with its default, and a
 * one-line error (exit 2) instead of a stack trace for an unknown option or a value that is not
 * a number where one is needed.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface ToolOption {
  type: 'string' | 'boolean';
  default?: string | boolean;
  /** One line for --help. */
  description: string;
}

/** The exit status for a command line the tool cannot take. */
export const USAGE_EXIT = 2;

export function parseToolArgs<const T extends Record<string, ToolOption>>(
  tool: string,
  usage: string,
  options: T,
  args: string[] = process.argv.slice(2),
): {
  [K in keyof T]: T[K]['type'] extends 'boolean'
    ? boolean
    : T[K] extends { default: string }
      ? string
      : string | undefined;
} {
  const config: Options = { help: { type: 'boolean', short: 'h', default: false } };
  for (const [name, option] of Object.entries(options)) {
    config[name] =
      option.default === undefined ? { type: option.type } : { type: option.type, default: option.default };
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args, options: config, strict: true }) as {
      values: Record<string, string | boolean | undefined>;
    });
  } catch (error) {
    console.error(`npm run ${tool}: ${error instanceof Error ? error.message : String(error)} (see --help)`);
    process.exit(USAGE_EXIT);
  }
  if (values.help === true) {
    console.log(helpText(tool, usage, options));
    process.exit(0);
  }
  return values as never;
}

export function helpText(tool: string, usage: string, options: Record<string, ToolOption>): string {
  const width = Math.max(...Object.entries(options).map(([name, o]) => optionLabel(name, o).length));
  const lines = Object.entries(options).map(([name, option]) => {
    const byDefault =
      option.default === undefined || option.default === false ? '' : ` (default ${String(option.default)})`;
    return `  ${optionLabel(name, option).padEnd(width)}  ${option.description}${byDefault}`;
  });
  return `npm run ${tool} -- [options]\n\n${usage.trim()}\n\nOptions:\n${lines.join('\n')}\n  ${'-h, --help'.padEnd(width)}  this text`;
}

function optionLabel(name: string, option: ToolOption): string {
  return option.type === 'string' ? `--${name} <value>` : `--${name}`;
}

/** A numeric option, or a one-line error and exit 2. */
export function numberOption(tool: string, name: string, value: string | undefined, min = 0): number {
  const number = Number(value);
  if (value === undefined || value.trim() === '' || !Number.isFinite(number) || number < min) {
    console.error(
      `npm run ${tool}: --${name} must be a number ≥ ${min}, not ${JSON.stringify(value)} (see --help)`,
    );
    process.exit(USAGE_EXIT);
  }
  return number;
}
