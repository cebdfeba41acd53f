/**
 * Gives an ONNX model a symbolic batch dimension, so several images can go through one
 * `session.run`. The IS-Net export fixes batch 1 only in its graph inputs and outputs: inside,
 * every Resize takes N and C from the runtime shape, so relabelling dim 0 of the inputs and
 * outputs (and dropping the stale intermediate shape annotations) is the whole edit.
 *
 *   npx tsx scripts/make-batchable.ts models/weights/isnet_fp16.onnx /tmp/isnet_fp16.batch.onnx
 *
 * Whether batches pay is measured in docs/PERFORMANCE.md ("Batching").
 */
import { parseArgs } from 'node:util';
import { readFile, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import onnxProto from 'onnx-proto';
import type { onnx } from 'onnx-proto';

const { ModelProto } = onnxProto.onnx;

function relabelBatch(value: onnx.IValueInfoProto, name: string): void {
  const dim = value.type?.tensorType?.shape?.dim?.[0];
  if (!dim) throw new Error(`${value.name}: no shape to relabel`);
  dim.dimValue = null;
  dim.dimParam = name;
}

/** The same model with dim 0 of every graph input and output named `batch`. */
export function makeBatchable(model: Uint8Array, dimName = 'batch'): Uint8Array {
  const proto = ModelProto.decode(model);
  const graph = proto.graph;
  if (!graph) throw new Error('not an ONNX model: no graph');
  for (const value of [...(graph.input ?? []), ...(graph.output ?? [])]) relabelBatch(value, dimName);
  graph.valueInfo = [];
  return ModelProto.encode(proto).finish();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const usage = 'usage: tsx scripts/make-batchable.ts <model.onnx> <out.onnx>';
  let positionals: string[] = [];
  try {
    ({ positionals } = parseArgs({ options: {}, allowPositionals: true, strict: true }));
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    process.exit(2);
  }
  const [input, output] = positionals;
  if (!input || !output || positionals.length > 2) {
    console.error(usage);
    process.exit(2);
  }
  await writeFile(output, makeBatchable(await readFile(input)));
  console.error(`${input} -> ${output} (batch dimension "batch")`);
}
