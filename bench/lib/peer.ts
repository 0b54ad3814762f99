/** Runs the PyTorch peer (bench/peers/torch_peer.py) and reads the one JSON object it prints. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
export const REPO_DIR = dirname(BENCH_DIR);
export const PEER_SCRIPT = join(BENCH_DIR, 'peers', 'torch_peer.py');
/** Debian's Python, which has python3-torch and python3-scipy (a venv python3 may not). */
export const PYTHON = process.env.HESSBOUND_BENCH_PYTHON ?? '/usr/bin/python3';

export type PeerTask = 'dense' | 'lanczos' | 'hvp';

/** The keys the benches read; see bench/peers/README.md for all of them. */
export interface PeerResult {
  peer: string;
  task: PeerTask;
  torch: string;
  scipy?: string;
  threads: number;
  parameters: number;
  samples: number;
  loss: number;
  lambdaMax: number;
  lambdaMin?: number;
  trace?: number;
  traceOfSquare?: number;
  eigenvalues?: number[];
  vectorize?: boolean;
  hvps?: number;
  residual?: number;
  topEigenvalues?: number[];
  seconds: Record<string, number>;
  secondsAll?: Record<string, number[]>;
  notes?: string[];
}

let availability: string | null | undefined;

/** null when the peer can run, else why not. */
export function peerUnavailable(): string | null {
  if (availability !== undefined) return availability;
  if (!existsSync(PEER_SCRIPT)) availability = `${PEER_SCRIPT} is missing`;
  else {
    const r = spawnSync(PYTHON, ['-c', 'import torch, scipy'], { stdio: ['ignore', 'ignore', 'pipe'] });
    availability =
      r.error || r.status !== 0
        ? `${PYTHON} cannot import torch and scipy (apt-get install -y python3-torch python3-scipy)`
        : null;
  }
  return availability;
}

export function peerCommand(task: PeerTask, modelPath: string, dataPath: string, extra: string[] = []): string[] {
  return [PYTHON, PEER_SCRIPT, task, '--model', modelPath, '--data', dataPath, ...extra];
}

export function runPeer(task: PeerTask, modelPath: string, dataPath: string, extra: string[] = []): PeerResult {
  const [file, ...args] = peerCommand(task, modelPath, dataPath, extra);
  const r = spawnSync(file as string, args, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 << 20 });
  if (r.error) throw new Error(`torch peer: cannot run ${PYTHON}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`torch peer ${task} failed (status ${String(r.status)}):\n${r.stderr.toString()}`);
  return JSON.parse(r.stdout.toString()) as PeerResult;
}
