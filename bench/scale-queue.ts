/**
 * Issue 25, item 2 (and item 7's queue part): one point's exact closed-form traces split over 1, 2
 * and 3 local `hessbound worker` processes through a private redis-server (bound --queue's code
 * path, src/queue/tile-coordinator.ts), against the same point computed locally in this process.
 * Everything runs on one thread per process (HESSBOUND_THREADS = OPENBLAS_NUM_THREADS = 1), so a
 * worker stands for one core of another machine.
 *
 * On a 2-core machine 3 workers cannot be faster than 2, and nothing here is faster than the cores
 * the machine's other jobs leave free: the point of the run is the split's overhead, measured as
 * the CPU time all processes spend against the local run's CPU time (the forward pass every job
 * repeats, serialisation, Redis), the per-job latency, and that every split result has the local
 * bits. Wall-clock times are shown with the load average next to them.
 *
 *   node --import tsx bench/scale-queue.ts [--samples 4000] [--width 128] [--tiles-per-job 8] [--out|--md FILE.md] [--quick]
 */
process.env['HESSBOUND_THREADS'] = '1';
process.env['OPENBLAS_NUM_THREADS'] = '1';

import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';

import { closedFormTraces, getBackend, randomModel } from '../src/index.js';
import { toProblemSpec } from '../src/problem.js';
import { queueTileSource, type QueueTileReport } from '../src/queue/tile-coordinator.js';
import { problemParts } from '../src/queue/tile-jobs.js';
import { syntheticDigits } from './lib/synthetic-digits.js';
import { machineInfo } from './lib/machine.js';
import { BENCH_DIR, REPO_DIR } from './lib/peer.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

// --quick (bench/scale.ts on a loaded machine): a quarter of the work.
const QUICK = process.argv.includes('--quick');
const SAMPLES = Number(arg('samples', QUICK ? '2000' : '4000'));
const WIDTH = Number(arg('width', '128'));
const PER_JOB = Number(arg('tiles-per-job', '8'));
// --md FILE is what bench/scale.ts passes; --out the same.
const OUT = arg('md', arg('out', join(BENCH_DIR, 'scale-queue-results.md')));
const TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  return typeof address === 'object' && address ? address.port : 0;
}

/** CPU seconds (user + system) a live process has used, from /proc. */
function cpuOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

function cpuSelf(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function waitForLine(child: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const on = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes(text)) {
        child.stdout?.off('data', on);
        resolve();
      }
    };
    child.stdout?.on('data', on);
    child.on('exit', (code) => reject(new Error(`exited with ${code} before '${text}': ${out}`)));
  });
}

interface SplitRun {
  workers: number;
  wall: number;
  coordinatorCpu: number;
  workersCpu: number;
  jobSeconds: number[];
  report: QueueTileReport;
  same: boolean;
  load: number;
}

async function main(): Promise<void> {
  const started = Date.now();
  const m = await machineInfo();
  const backend = await getBackend('native');
  const simd = `${backend.addonInfo?.simd ?? '?'} (the CPU supports ${backend.addonInfo?.simdCpu ?? '?'}; OpenBLAS kernels ${backend.addonInfo?.blasKernels ?? '?'})`;
  const data = syntheticDigits({ n: SAMPLES, seed: 1 });
  const model = randomModel({ inputs: data.d, hidden: [WIDTH], classes: 10, activation: 'tanh', seed: 1 });
  const spec = toProblemSpec(model, data, 'mean');
  const parts = problemParts(spec);
  const port = await freePort();
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'ignore'] });
  await waitForLine(redis, 'Ready to accept connections');
  const lines: string[] = [];
  try {
    // Local reference, this process, one thread.
    let load = loadavg()[0]!;
    let cpu0 = cpuSelf();
    let t0 = performance.now();
    const local = await closedFormTraces(backend, spec, { method: 'dual', orthogonality: false });
    const localWall = (performance.now() - t0) / 1000;
    const localCpu = cpuSelf() - cpu0;
    const localLoad = load;
    console.log(`local: ${localWall.toFixed(1)} s wall, ${localCpu.toFixed(1)} s CPU, ${local.tiles?.count} tiles of ${local.tiles?.size}`);
    const runs: SplitRun[] = [];
    for (const count of [1, 2, 3]) {
      // A fresh database per run: nothing is resumed from the previous one.
      const url = `redis://127.0.0.1:${port}/${count}`;
      const workers: ChildProcess[] = [];
      const logs: string[] = [];
      for (let i = 0; i < count; i++) {
        const w = spawn(process.execPath, ['--import', 'tsx', join(REPO_DIR, 'src/cli/main.ts'), 'worker', '--queue', url, '--concurrency', '1', '--backend', 'native'], { cwd: REPO_DIR, env: { ...process.env }, stdio: ['ignore', 'pipe', 'pipe'] });
        const at = logs.push('') - 1;
        w.stdout?.on('data', (c: Buffer) => (logs[at] += c.toString()));
        await waitForLine(w, 'hessbound worker: serving');
        workers.push(w);
      }
      const cpuBefore = workers.map((w) => cpuOf(w.pid!));
      load = loadavg()[0]!;
      let report: QueueTileReport | undefined;
      cpu0 = cpuSelf();
      t0 = performance.now();
      const r = await closedFormTraces(backend, spec, { method: 'dual', orthogonality: false, tiles: queueTileSource({ url, tilesPerJob: PER_JOB, backend: 'native', pollInterval: 100 }, (x) => (report = x)) });
      const wall = (performance.now() - t0) / 1000;
      const coordinatorCpu = cpuSelf() - cpu0;
      const workersCpu = workers.reduce((s, w, i) => s + cpuOf(w.pid!) - cpuBefore[i]!, 0);
      for (const w of workers) w.kill('SIGKILL');
      const jobSeconds = logs.flatMap((l) => [...l.matchAll(/tiles done [0-9a-f]{16} \d+\.\.\d+ of \d+ in ([\d.]+) s/g)].map((x) => Number(x[1])));
      const same = Object.is(r.trace, local.trace) && Object.is(r.traceOfSquare, local.traceOfSquare) && JSON.stringify(r.bound) === JSON.stringify(local.bound);
      runs.push({ workers: count, wall, coordinatorCpu, workersCpu, jobSeconds, report: report!, same, load });
      console.log(`${count} worker(s): ${wall.toFixed(1)} s wall, CPU coordinator ${coordinatorCpu.toFixed(1)} s + workers ${workersCpu.toFixed(1)} s, same bits: ${same}`);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
    const tiles = local.tiles!;
    const h = WIDTH, c = 10;
    const perTile = tiles.size * tiles.size * ((c * (c + 1)) / 2 + 3 * c) * h; // multiply-adds of a full off-diagonal tile
    lines.push(
      '# bench/scale-queue.ts: one point split over queue workers',
      '',
      `Generated by \`node --import tsx bench/scale-queue.ts --samples ${SAMPLES} --width ${WIDTH} --tiles-per-job ${PER_JOB}\` on ${new Date().toISOString().slice(0, 16)} UTC.`,
      '',
      `- CPU: ${m.cpu}, ${m.cores} cores; SIMD path of the kernel's loops: ${simd}; Node ${m.node}.`,
      `- Load average at the start: ${m.loadAverage.join(' / ')} (1/5/15 min); the machine is shared with other engineers' jobs, so wall-clock times are depressed and noisy. CPU times are not inflated by other jobs' time slices.`,
      `- Point: synthetic digits ${SAMPLES.toLocaleString('en-US')} x 784, 10 classes (bench/lib/synthetic-digits.ts, seed 1), tanh width ${WIDTH}, method dual, orthogonality off; ${tiles.count} tiles of ${tiles.size} samples a side (about ${(perTile / 1e9).toFixed(2)}e9 multiply-adds per full tile), ${PER_JOB} tiles per job (${runs[0]!.report.jobs} jobs).`,
      '- Every process on one thread (HESSBOUND_THREADS = OPENBLAS_NUM_THREADS = 1); the coordinator is this process, the workers are `hessbound worker --concurrency 1` processes, Redis a private redis-server on loopback.',
      `- Bytes: the model part ${parts.model.bytes.length.toLocaleString('en-US')} B and the data part ${parts.data.bytes.length.toLocaleString('en-US')} B go to Redis once and to each worker once (cached for the point's later jobs); a job is about ${JSON.stringify({ format: 'hessbound.tile-job.v1', point: '0123456789abcdef', model: parts.model.id, data: parts.data.id, reduction: 0, backend: 'native', first: 100, count: PER_JOB, tileCount: tiles.count }).length} B of JSON; each tile sends back 7 numbers (about 170 B).`,
      '',
      '| run | wall s | load (1 min) | CPU s: coordinator | CPU s: workers | CPU s in all / local CPU | median s per job | same bits as local |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
      `| local (this process) | ${localWall.toFixed(1)} | ${localLoad.toFixed(1)} | ${localCpu.toFixed(1)} | — | 1.00 | — | — |`,
      ...runs.map((r) => `| ${r.workers} worker${r.workers > 1 ? 's' : ''} | ${r.wall.toFixed(1)} | ${r.load.toFixed(1)} | ${r.coordinatorCpu.toFixed(1)} | ${r.workersCpu.toFixed(1)} | ${((r.coordinatorCpu + r.workersCpu) / localCpu).toFixed(2)} | ${median(r.jobSeconds).toFixed(2)} (${(median(r.jobSeconds) / PER_JOB).toFixed(2)} per tile) | ${r.same ? 'yes' : 'NO'} |`),
      '',
      `Reading it: the split's overhead is the CPU ratio above 1.00 (each job repeats the O(N d h) forward pass and the per-sample quantities before its ${PER_JOB} tiles; the coordinator's own forward pass and the O(N) terms are counted in its column). ${m.cores <= 2 ? `This machine has ${m.cores} cores, so 3 workers cannot be faster than 2, and 2 workers can be faster than 1 only by the share of the cores the other jobs leave free: the wall-clock column says nothing about a cluster.` : ''} On separate machines the wall time would be about the local time divided by the workers, plus the coordinator's forward pass and one job's latency.`,
      '',
      `Total bench time ${((Date.now() - started) / 1000).toFixed(0)} s.`,
      '',
    );
  } finally {
    redis.kill('SIGTERM');
  }
  writeFileSync(OUT, lines.join('\n'));
  console.log(lines.join('\n'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
