import type { ModelSpec } from '@bgremove/shared';
import type { Size } from '../inference/preprocess';

export type { Size };

/**
 * The tensor size a model wants for a source of the given size: fixed for `stretch`; for
 * `keep-aspect`, the longer side scaled to the model size and both sides on the model's multiple.
 */
export function modelInputSize(spec: ModelSpec, source: Size): Size {
  const { width, height, resize, multiple = 1 } = spec.input;
  if (resize === 'stretch') return { width, height };
  const scale = Math.max(width, height) / Math.max(source.width, source.height);
  const snap = (n: number) => Math.max(multiple, Math.round((n * scale) / multiple) * multiple);
  return { width: snap(source.width), height: snap(source.height) };
}
