import { createRequire } from 'node:module';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import sharp from 'sharp';
import type { ProviderName } from '../src/config';

const require = createRequire(import.meta.url);

export interface MachineInfo {
  cpuModel: string;
  /** Cores this process may use (what the server sizes its ORT threads by). */
  cores: number;
  ramBytes: number;
  kernel: string;
  node: string;
  onnxruntimeNode: string;
  sharp: string;
  libvips: string;
  provider: ProviderName;
  intraOpThreads: number;
  /** 1-, 5- and 15-minute load averages when the bench started. */
  loadAverageAtStart: number[];
}

export function describeMachine(provider: ProviderName, intraOpThreads: number): MachineInfo {
  const ort = require('onnxruntime-node/package.json') as { version: string };
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    ramBytes: totalmem(),
    kernel: `${process.platform} ${release()} ${process.arch}`,
    node: process.version,
    onnxruntimeNode: ort.version,
    sharp: sharp.versions.sharp,
    libvips: sharp.versions.vips,
    provider,
    intraOpThreads,
    loadAverageAtStart: loadavg(),
  };
}
