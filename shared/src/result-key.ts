import { PIPELINE_VERSION, sha256Hex, type OutputFormat, type OutputKind } from './protocol';

export interface ResultKeyOptions {
  modelId: string;
  modelSha256: string;
  output: OutputKind;
  format: OutputFormat;
  maxSide: number | undefined;
  sourceSha256: string;
  pipelineVersion?: string;
}

/**
 * The canonical string behind a result key. Every field that changes the output bytes is in it,
 * each labelled, so no two option sets can collide by concatenation. Documented in docs/STORAGE.md.
 */
export function resultKeyInput(options: ResultKeyOptions): string {
  return [
    'bgremove-result',
    `pipeline=${options.pipelineVersion ?? PIPELINE_VERSION}`,
    `model=${options.modelId}`,
    `model_sha256=${options.modelSha256}`,
    `output=${options.output}`,
    `format=${options.format}`,
    `max_side=${options.maxSide ?? 'none'}`,
    `source_sha256=${options.sourceSha256}`,
  ].join('\n');
}

/** Lowercase hex SHA-256 of the canonical string: the same for /v1/lookup and an upload. */
export function resultKey(options: ResultKeyOptions): Promise<string> {
  return sha256Hex(resultKeyInput(options));
}
