/**
 * Issue 25, item 1 (and item 7's traces part): the exact closed-form traces on a 10,000 x 784
 * synthetic digit set (bench/lib/synthetic-digits.ts: seeded, 10 classes, sparse pixels in [0, 1]), tanh
 * width 128 (the issue's case), against OpenBLAS's DGEMM rate measured in the same run, on 1 and 2
 * kernel threads.
 *
 * The traces' rate is counted on the issue's flop count, 2 x N^2/2 (c(c+1)/2 + 3c) h (the GEMM
 * work the dual form needs; its other O(N^2 (d + c^2)) work is not counted, so it is a lower bound
 * on the machine's useful rate). Each thread count runs in its own process (HESSBOUND_THREADS is
 * read once per process). Every figure is given twice: by the wall clock, and per core by the
 * process's CPU time, which the time slices other jobs take on a shared machine do not inflate
 * (the CPU-time rate is what one core does when it runs; the wall-clock ratio of 2 threads to 1 is
 * the speed-up a user sees, and needs an otherwise idle machine to mean anything).
 * Rounds are interleaved (DGEMM 1 and 2 threads, traces 1 and 2 threads, then again), and the
 * estimate estimateCost() gives before each run is shown next to the measured time.
 *
 * SIMD paths (--paths, default every path this CPU runs but generic): the traces' own loops take
 * the path HESSBOUND_SIMD names (native/kernel/closed_form/dual_rows.cpp), and the DGEMM reference
 * and the traces' remaining BLAS calls take the matching OpenBLAS kernels: its own choice for
 * avx512 (SkylakeX here), OPENBLAS_CORETYPE=Haswell for avx2, i.e. what an AVX2-only CPU such as
 * Zen 3 runs (on the same cores, so the ratio, not the GFLOP/s, carries over).
 *
 *   node --import tsx bench/scale-traces.ts [--samples 10000] [--width 128] [--rounds 2]
 *     [--paths avx512,avx2] [--out FILE.md]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { closedFormTraces, estimateCost, getBackend, randomModel } from '../src/index.js';
import { toProblemSpec } from '../src/problem.js';
import { syntheticDigits } from './lib/synthetic-digits.js';
import { machineInfo } from './lib/machine.js';
import { cpuDescription, runnableSimdPaths } from './lib/simd.js';
import { BENCH_DIR } from './lib/peer.js';

interface DgemmRate {
  corename: string;
  threads: number;
  gflops: number;
  cpuGflopsPerCore: number;
}

interface TracesRun {
  simd: string;
  blasKernels: string;
  threads: number;
  seconds: number;
  cpuSeconds: number;
  estimate: number | null;
  tiles: { size: number; count: number; threads: number };
  traceOfSquareBits: string;
  traceOfSquare: number;
  load: number;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const SAMPLES = Number(arg('samples', '10000'));
const WIDTH = Number(arg('width', '128'));
const CLASSES = 10;
const PIXELS = 784;

/** The issue's flop count of the dual traces: 2 x N^2/2 (c(c+1)/2 + 3c) h. */
function tracesFlops(N: number, c: number, h: number): number {
  return N * N * ((c * (c + 1)) / 2 + 3 * c) * h;
}

async function child(): Promise<void> {
  const data = syntheticDigits({ n: SAMPLES, seed: 1 });
  const model = randomModel({ inputs: PIXELS, hidden: [WIDTH], classes: CLASSES, activation: 'tanh', seed: 0 });
  const backend = await getBackend('native');
  const estimate = await estimateCost(model, data, { backend: 'native', method: 'dual' });
  const spec = toProblemSpec(model, data, 'mean');
  const load = loadavg()[0]!;
  const cpu0 = process.cpuUsage();
  const r = await closedFormTraces(backend, spec, { method: 'dual', orthogonality: false });
  const cpu = process.cpuUsage(cpu0);
  const out: TracesRun = {
    simd: backend.addonInfo?.simd ?? 'unknown',
    blasKernels: backend.addonInfo?.blasKernels ?? 'unknown',
    threads: r.tiles!.threads,
    seconds: r.seconds.traces,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    estimate: estimate.seconds,
    tiles: r.tiles!,
    traceOfSquareBits: Buffer.from(new Float64Array([r.trace, r.traceOfSquare]).buffer).toString('hex'),
    traceOfSquare: r.traceOfSquare,
    load,
  };
  console.log(JSON.stringify(out));
}

/** The environment of a path: HESSBOUND_SIMD, and OpenBLAS's kernels of the same width. */
function pathEnv(path: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HESSBOUND_SIMD: path };
  delete env['OPENBLAS_CORETYPE'];
  if (path === 'avx2') env['OPENBLAS_CORETYPE'] = 'Haswell';
  return env;
}

let dgemmExe: string | undefined;
function dgemm(threads: number, path: string): DgemmRate {
  if (!dgemmExe) {
    dgemmExe = join(mkdtempSync(join(tmpdir(), 'hessbound-dgemm-')), 'dgemm-rate');
    execFileSync('g++', ['-O2', join(BENCH_DIR, 'native/dgemm-rate.cpp'), '-I/usr/include/x86_64-linux-gnu/openblas-pthread', '-lopenblas', '-o', dgemmExe], { stdio: 'pipe' });
  }
  const text = execFileSync(dgemmExe, ['1024', '5'], { encoding: 'utf8', env: { ...pathEnv(path), OPENBLAS_NUM_THREADS: String(threads) } });
  return JSON.parse(text) as DgemmRate;
}

function traces(threads: number, path: string): TracesRun {
  const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', '--samples', String(SAMPLES), '--width', String(WIDTH)], {
    env: { ...pathEnv(path), HESSBOUND_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) },
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0) throw new Error(`traces child (${threads} threads) failed: ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as TracesRun;
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : 0.5 * (s[s.length / 2 - 1]! + s[s.length / 2]!);
};
const f1 = (x: number) => x.toFixed(1);

/** Linux's per-session CPU fairness: with it on, a process's threads share one session's slice of a busy machine. */
function autogroup(): string {
  try {
    return readFileSync('/proc/sys/kernel/sched_autogroup_enabled', 'utf8').trim() === '1' ? 'on' : 'off';
  } catch {
    return 'unknown';
  }
}
const f2 = (x: number) => x.toFixed(2);

interface Round {
  round: number;
  path: string;
  d1: DgemmRate;
  d2: DgemmRate;
  t1: TracesRun;
  t2: TracesRun;
}

async function main(): Promise<void> {
  const rounds = Number(arg('rounds', '2'));
  const paths = arg('paths', runnableSimdPaths().filter((p) => p !== 'generic').join(',')).split(',');
  const m = await machineInfo();
  const flops = tracesFlops(SAMPLES, CLASSES, WIDTH);
  const rows: Round[] = [];
  const started = Date.now();
  for (let r = 0; r < rounds; r++) {
    for (const path of paths) {
      const d1 = dgemm(1, path);
      const d2 = dgemm(2, path);
      const t1 = traces(1, path);
      const t2 = traces(2, path);
      rows.push({ round: r + 1, path, d1, d2, t1, t2 });
      console.error(`round ${r + 1}/${rounds}, path ${path} done (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    }
  }
  const out: string[] = [];
  out.push('# bench/scale-traces.ts: exact closed-form traces at 10,000 x 784 against DGEMM');
  out.push('');
  out.push(`Generated by \`node --import tsx bench/scale-traces.ts --samples ${SAMPLES} --width ${WIDTH} --rounds ${rounds} --paths ${paths.join(',')}\` on ${new Date().toISOString().slice(0, 16)} UTC.`);
  out.push('');
  out.push(`- CPU: ${cpuDescription()}, ${m.cores} cores; Node ${m.node}.`);
  out.push(`- SIMD paths: ${paths.map((p) => { const r = rows.find((x) => x.path === p)!; return `${p} (the traces' loops ran ${r.t1.simd}; OpenBLAS core type ${r.d1.corename} for DGEMM, ${r.t1.blasKernels} in the addon)`; }).join('; ')}. The avx2 rows run OpenBLAS's Haswell kernels (OPENBLAS_CORETYPE=Haswell, as on an AVX2-only CPU) for the reference DGEMM and for the traces' own BLAS calls.`);
  out.push(`- Load average at the start: ${m.loadAverage.join(' / ')} (1/5/15 min); at each traces run: ${rows.flatMap((r) => [r.t1.load, r.t2.load]).map(f1).join(', ')}. The machine is shared with other jobs, so wall-clock figures are depressed and noisy; per-core CPU-time rates are not affected by other jobs' time slices.`);
  out.push(`- Data: synthetic digits, ${SAMPLES.toLocaleString('en-US')} x ${PIXELS}, ${CLASSES} classes (bench/lib/synthetic-digits.ts, seed 1); model: tanh, width ${WIDTH}, seeded Glorot initialisation (the cost does not depend on the weights); method dual, orthogonality off.`);
  out.push(`- Flop count: N^2 (c(c+1)/2 + 3c) h = ${flops.toExponential(3)} (= 2 x the issue's multiply-adds).`);
  out.push(`- DGEMM: OpenBLAS 1024 x 1024 x 1024, best of 5, with OPENBLAS_NUM_THREADS = 1 and 2.`);
  out.push(`- Scheduler autogroup (CPU shared fairly between sessions, not threads): ${autogroup()}. When it is on and other sessions keep the cores busy, a process gets its session's share however many threads it runs, so the wall-clock speed-up of 2 threads cannot show here; the CPU-time ratio shows whether threading adds work.`);
  out.push('');
  out.push('| round | path | threads | DGEMM GFLOP/s (wall) | DGEMM GFLOP/s per core (CPU) | traces s (wall) | traces CPU s | traces GFLOP/s (wall) | per core (CPU) | traces / DGEMM (wall) | traces / DGEMM per core (CPU) | estimate before the run | tiles |');
  out.push('| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const r of rows) {
    for (const [d, t] of [[r.d1, r.t1], [r.d2, r.t2]] as const) {
      const wall = flops / t.seconds / 1e9;
      const perCore = flops / t.cpuSeconds / 1e9;
      out.push(`| ${r.round} | ${r.path} | ${t.threads} | ${f1(d.gflops)} | ${f1(d.cpuGflopsPerCore)} | ${f1(t.seconds)} | ${f1(t.cpuSeconds)} | ${f1(wall)} | ${f1(perCore)} | ${f2(wall / d.gflops)} | ${f2(perCore / d.cpuGflopsPerCore)} | ${t.estimate === null ? '—' : `${f1(t.estimate)} s`} | ${t.tiles.count} of ${t.tiles.size} |`);
    }
  }
  out.push('');
  out.push('Medians over the rounds, per path:');
  out.push('');
  for (const path of paths) {
    const mine = rows.filter((r) => r.path === path);
    const speedup = median(mine.map((r) => r.t1.seconds / r.t2.seconds));
    const cpuRatio = median(mine.map((r) => r.t2.cpuSeconds / r.t1.cpuSeconds));
    const eff1 = median(mine.map((r) => flops / r.t1.cpuSeconds / 1e9 / r.d1.cpuGflopsPerCore));
    const eff2 = median(mine.map((r) => flops / r.t2.cpuSeconds / 1e9 / r.d1.cpuGflopsPerCore));
    const wallEff1 = median(mine.map((r) => flops / r.t1.seconds / 1e9 / r.d1.gflops));
    const identical = mine.every((r) => r.t1.traceOfSquareBits === r.t2.traceOfSquareBits && r.t1.traceOfSquareBits === mine[0]!.t1.traceOfSquareBits);
    out.push(`- **${path}**: one thread: traces at **${f2(eff1)}** of one core's DGEMM rate per core by CPU time (${f2(wallEff1)} by the wall clock against the wall-clock DGEMM rate of the same round); two threads: ${f2(eff2)} per core against the one-thread DGEMM rate;`);
    out.push(`  two threads against one: ${f2(speedup)}x by the wall clock; CPU time of 2 threads / 1 thread: ${f2(cpuRatio)} (1.00 = no work added by the threading; the wall-clock speed-up is bounded by the cores the other jobs leave free); projected speed-up on an idle machine, 2 x CPU(1) / CPU(2): ${f2(2 / cpuRatio)} (a projection, not a measurement: it assumes the threads never wait, which holds up to the last of ${mine[0]!.t2.tiles.count} tiles, and that two cores do not contend for memory bandwidth);`);
    out.push(`  tr(H) and tr(H^2) bit-identical for 1 and 2 threads in every round: ${identical ? 'yes' : 'NO'} (tr(H^2) = ${mine[0]!.t1.traceOfSquare}).`);
  }
  const perPath = paths.map((p) => rows.find((r) => r.path === p)!.t1.traceOfSquare);
  out.push(`- tr(H^2) across paths: ${perPath.map((v, i) => `${paths[i]} ${v}`).join(', ')} (relative spread ${(Math.abs(Math.max(...perPath) - Math.min(...perPath)) / Math.abs(perPath[0]!)).toExponential(1)}; the paths may differ in last bits, where fused multiply-adds round differently).`);
  out.push(`- total bench time ${((Date.now() - started) / 1000).toFixed(0)} s.`);
  const text = out.join('\n') + '\n';
  const file = arg('out', '');
  if (file) writeFileSync(file, text);
  process.stdout.write(text);
}

if (process.argv.includes('--child')) await child();
else await main();
