import { UsageError } from './args';

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/**
 * Parses, runs, and turns the outcome into an exit status: 0 done, 1 the operation failed,
 * 2 a usage error (the message names the flag; the usage text follows).
 */
export async function runCli<O>(
  argv: readonly string[],
  usage: string,
  parse: (argv: readonly string[]) => O | null,
  run: (options: O) => Promise<number>,
  io: CliIo = processIo,
): Promise<number> {
  try {
    const options = parse(argv);
    if (options === null) {
      io.out(usage);
      return 0;
    }
    return await run(options);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`error: ${error.message}\n\n${usage}`);
      return 2;
    }
    const code = (error as { code?: unknown }).code;
    io.err(
      `error: ${error instanceof Error ? error.message : String(error)}${typeof code === 'number' ? ` (gRPC status ${code})` : ''}`,
    );
    return 1;
  }
}

/** CLOUD_RUN_EMULATOR_URL: a local stand-in for run.googleapis.com (tests); unset in real use. */
export const emulatorUrl = (env: NodeJS.ProcessEnv) => env.CLOUD_RUN_EMULATOR_URL || undefined;
