import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

const SEVERITY: Record<string, string> = {
  trace: 'DEBUG',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
};

/**
 * JSON lines with Cloud Logging's field names (`severity`, `message`, `httpRequest`,
 * `logging.googleapis.com/trace`), so Cloud Run's agent parses them without configuration.
 */
export function createLogger(level: LevelWithSilent, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      messageKey: 'message',
      base: { service: 'bgremove-gpu-backend' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ severity: SEVERITY[label] ?? 'DEFAULT' }),
      },
      errorKey: 'error',
    },
    destination,
  );
}

/** Cloud Logging trace field from `X-Cloud-Trace-Context: TRACE_ID/SPAN_ID;o=1`, when a project is known. */
export function traceField(header: string | undefined, project: string | undefined): Record<string, string> {
  const traceId = header?.split('/')[0];
  if (!traceId || !project || !/^[0-9a-f]{32}$/i.test(traceId)) return {};
  return { 'logging.googleapis.com/trace': `projects/${project}/traces/${traceId}` };
}
