import { PIPELINE_VERSION, sha256Hex } from './protocol';
import { RESULT_OPTION_NAMES, type ResultOptions } from './query';

export interface ResultKeyOptions {
  modelId: string;
  modelSha256: string;
  /** The result options with defaults applied; `model` here is ignored in favour of modelId. */
  options: ResultOptions;
  sourceSha256: string;
  pipelineVersion?: string;
}

/**
 * The canonical string behind a result key. Every field that changes the output bytes is in it,
 * each labelled, so no two option sets can collide by concatenation: the pipeline version, the
 * model and its pinned hash, then every result option of the shared query schema in sorted order
 * (an unset optional one as `none`), so an option added to the schema is in the key by itself.
 * Documented in docs/STORAGE.md.
 */
export function resultKeyInput(key: ResultKeyOptions): string {
  const lines = [
    'bgremove-result',
    `pipeline=${key.pipelineVersion ?? PIPELINE_VERSION}`,
    `model=${key.modelId}`,
    `model_sha256=${key.modelSha256}`,
  ];
  for (const name of RESULT_OPTION_NAMES) {
    if (name === 'model') continue;
    lines.push(`${name}=${optionText(key.options[name])}`);
  }
  lines.push(`source_sha256=${key.sourceSha256}`);
  return lines.join('\n');
}

function optionText(value: unknown): string {
  if (value === undefined) return 'none';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return String(value);
  return JSON.stringify(value);
}

/** Lowercase hex SHA-256 of the canonical string: the same for /v1/lookup and an upload. */
export function resultKey(options: ResultKeyOptions): Promise<string> {
  return sha256Hex(resultKeyInput(options));
}
