/**
 * The pixel worker: matte refinement and foreground colour estimation, on worker threads so the
 * event loop never runs per-pixel loops (pixel-pool.ts).
 */
import { estimateForeground, type ForegroundRequest } from './foreground';
import { refineMatte, type RefineRequest, type RefineResult } from './refine';

export type PixelTask = ({ kind: 'refine' } & RefineRequest) | ({ kind: 'foreground' } & ForegroundRequest);

export default function handle(task: PixelTask): RefineResult | Uint8Array {
  if (task.kind === 'refine') return refineMatte(task);
  return estimateForeground(task);
}
