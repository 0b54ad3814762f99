/** What the results depend on: processor, cores, load, BLAS threading, backends available. */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';

import { getBackend } from '../../src/index.js';
import { REPO_DIR } from './peer.js';

export interface MachineInfo {
  cpu: string;
  cores: number;
  loadAverage: number[];
  node: string;
  openblasThreads: string;
  openblasCoretype: string;
  nativeLinalg: string | null;
  wasm: string;
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    return line ? line.split(':')[1]?.trim() ?? 'unknown' : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Why the WebAssembly backend cannot be benchmarked, or null when it can. */
export function wasmUnavailable(): string | null {
  if (!existsSync(join(REPO_DIR, 'src', 'backend', 'wasm.ts'))) return 'not built (src/backend/wasm.ts does not exist yet)';
  if (!existsSync(join(REPO_DIR, 'wasm', 'dist', 'hessbound-wasm.wasm')))
    return 'not built (run npm run build:wasm to produce wasm/dist/)';
  return null;
}

export async function machineInfo(): Promise<MachineInfo> {
  let nativeLinalg: string | null = null;
  try {
    nativeLinalg = (await getBackend('native')).linalg;
  } catch {
    nativeLinalg = null;
  }
  const threads = process.env.OPENBLAS_NUM_THREADS;
  return {
    cpu: cpuModel(),
    cores: availableParallelism(),
    loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
    node: process.version,
    openblasThreads: threads ? threads : `unset (OpenBLAS default: one thread per core, ${availableParallelism()})`,
    openblasCoretype: process.env.OPENBLAS_CORETYPE ?? 'unset (detected by OpenBLAS)',
    nativeLinalg,
    wasm: wasmUnavailable() ?? 'built',
  };
}

export function printMachine(m: MachineInfo): void {
  console.log(`machine: ${m.cpu}, ${m.cores} cores, load average ${m.loadAverage.join(' / ')} (1/5/15 min)`);
  console.log(`node ${m.node}; native backend: ${m.nativeLinalg ?? 'not loaded'}; wasm: ${m.wasm}`);
  console.log(`OPENBLAS_NUM_THREADS: ${m.openblasThreads}; OPENBLAS_CORETYPE: ${m.openblasCoretype}`);
}
