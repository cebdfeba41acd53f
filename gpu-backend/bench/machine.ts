import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import sharp from 'sharp';
import type { ProviderName } from '../src/inference/providers';

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

/** `nvidia-smi`'s name, memory and driver per GPU, or undefined where there is no nvidia-smi. */
export function describeGpus(): string[] | undefined {
  try {
    const out = execFileSync(
      'nvidia-smi',
      ['--query-gpu=name,memory.total,driver_version', '--format=csv,noheader'],
      { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    return out.split('\n').filter(Boolean);
  } catch {
    return undefined;
  }
}

let nvidiaSmiFailed = false;

/** GPU memory the process `pid` holds per nvidia-smi (MiB), or undefined when it does not say. */
export function gpuMemoryOfPid(pid: number): number | undefined {
  if (nvidiaSmiFailed) return undefined;
  try {
    const out = execFileSync(
      'nvidia-smi',
      ['--query-compute-apps=pid,used_memory', '--format=csv,noheader,nounits'],
      { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const row = out
      .split('\n')
      .map((line) => line.split(',').map((cell) => cell.trim()))
      .find(([p]) => Number(p) === pid);
    return row ? Number(row[1]) : undefined;
  } catch {
    nvidiaSmiFailed = true;
    return undefined;
  }
}
