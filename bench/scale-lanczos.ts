/**
 * lambda_max by Lanczos at scale (issue 25 item 4): a seeded synthetic 10,000 x 784 digit set
 * (bench/lib/synthetic-digits.ts), a 784-256-10 tanh MLP at hessbound's seeded Glorot start,
 * tolerance 1e-10, ONE thread on each side, in the same run:
 *
 * - hessbound: analyze() (Lanczos, largest end, no bound) timed in-process as a whole call
 *   (problem conversion, forward pass, Lanczos, the point's diagnostics), in a child process per
 *   SIMD path this CPU runs (HESSBOUND_SIMD; bench/lib/lanczos-point.ts), layer 0 reading X as the
 *   default picks (by its nonzeros: the set is 24% nonzero), and the first path once more with the
 *   dense GEMMs forced (HESSBOUND_SPARSE_INPUTS=dense);
 * - PyTorch: double-backprop HVPs + scipy's eigsh (bench/peers/torch_peer.py lanczos, which='LA',
 *   same tolerance), its OpenBLAS choosing its own kernels (OPENBLAS_CORETYPE removed from its
 *   environment), gradient graph + eigsh timed in-process.
 *
 * Rounds alternate the sides; each round's ratio is PyTorch's time over hessbound's in that round.
 * Also the memory: each hessbound child's peak RSS, and what analyze() plans to allocate (the
 * forward cache, the HVP scratch, the Lanczos basis; src/resources/memory-plan.ts) here and at
 * 60,000 x 784 x 1024.
 *
 *   node --import tsx bench/scale-lanczos.ts [--n 10000] [--width 256] [--rounds 2] [--paths avx512,avx2]
 *     [--md bench/scale-lanczos-results.md]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { modelToJson, randomModel } from '../src/index.js';
import { forwardCache, hvpScratch, lanczosBasis, parameterCountOf } from '../src/resources/memory-plan.js';
import { BENCH_DIR, PEER_SCRIPT, PYTHON } from './lib/peer.js';
import { cpuDescription, openblasCore, runnableSimdPaths } from './lib/simd.js';
import { median } from './lib/stats.js';
import { syntheticDigits } from './lib/synthetic-digits.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '10000' },
    width: { type: 'string', default: '256' },
    rounds: { type: 'string', default: '2' },
    paths: { type: 'string' },
    tolerance: { type: 'string', default: '1e-10' },
    md: { type: 'string' },
  },
});
const N = Number(values.n), WIDTH = Number(values.width), ROUNDS = Number(values.rounds), TOL = values.tolerance;
const PATHS = values.paths ? values.paths.split(',') : runnableSimdPaths().filter((p) => p !== 'generic');

const lines: string[] = [];
const say = (s = ''): void => {
  console.log(s);
  lines.push(s);
};

interface HbRun {
  seconds: number;
  phases: Record<string, number>;
  lambdaMax: number | null;
  products: number | null;
  residual: number | null;
  converged: boolean;
  flags: string[];
  simd: string | null;
  inputs: string | null;
  maxRssBytes: number;
}
interface TorchRun {
  lambdaMax: number;
  hvps: number;
  residual: number;
  seconds: { total: number; perHvp: number; gradGraph: number };
}

function spawnJson<T>(argv: string[], env: Record<string, string | undefined>): T {
  const [file, ...args] = argv;
  const r = spawnSync(file as string, args, { env: env as NodeJS.ProcessEnv, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${String(r.status)}\n${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as T;
}

const oneThread = { OPENBLAS_NUM_THREADS: '1', HESSBOUND_THREADS: '1', OMP_NUM_THREADS: '1', TORCH_THREADS: '1' };
const baseEnv = (): Record<string, string | undefined> => {
  const env: Record<string, string | undefined> = { ...process.env, ...oneThread };
  delete env['OPENBLAS_CORETYPE']; // each side's OpenBLAS picks its own kernels, as on a user's machine
  delete env['HESSBOUND_SIMD'];
  return env;
};

const dir = mkdtempSync(join(tmpdir(), 'hessbound-scale-lanczos-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const data = syntheticDigits({ n: N });
const model = randomModel({ inputs: data.d, hidden: [WIDTH], classes: data.classes, activation: 'tanh', seed: 0 });
const P = parameterCountOf([data.d, WIDTH, data.classes]);
const modelPath = join(dir, 'model.json'), dataPath = join(dir, 'data.json');
writeFileSync(modelPath, JSON.stringify(modelToJson(model)));
const rows: number[][] = [];
for (let i = 0; i < data.n; i++) rows.push(Array.from(data.x.subarray(i * data.d, (i + 1) * data.d)));
writeFileSync(dataPath, JSON.stringify({ x: rows, y: Array.from(data.labels as Int32Array) }));

say(`# lambda_max by Lanczos at ${N.toLocaleString('en-US')} x ${data.d} (issue 25 item 4)`);
say();
say(`Run ${new Date().toISOString()}, \`node --import tsx bench/scale-lanczos.ts ${process.argv.slice(2).join(' ')}\`.`);
say(`CPU: ${cpuDescription()}; the system OpenBLAS (PyTorch's, and the addon's static copy) runs its ${openblasCore(PYTHON)} kernels here. hessbound SIMD paths run: ${PATHS.join(', ')} (HESSBOUND_SIMD; the child reports the path that ran).`);
say(`Load average at the start: ${loadavg().map((x) => x.toFixed(2)).join(' / ')} (1/5/15 min) on ${'2'} shared cores: other jobs ran meanwhile, so only the same-round ratios mean much.`);
const density = data.x.filter((v) => v !== 0).length / data.x.length;
say(`Problem: bench/lib/synthetic-digits.ts, n = ${N}, seed 0 (10 classes, pixels in [0, 1], ${(100 * density).toFixed(1)}% nonzero), ` +
  `${data.d}-${WIDTH}-${data.classes} tanh MLP, Glorot seed 0, P = ${P.toLocaleString('en-US')}; tolerance ${TOL}; one thread each ` +
  `(OPENBLAS_NUM_THREADS = HESSBOUND_THREADS = OMP_NUM_THREADS = TORCH_THREADS = 1; OPENBLAS_CORETYPE unset).`);
say();
say(`| round | side | SIMD path | layer 0 reads X | seconds | products | lambda_max | residual | phases (s) | peak RSS | PyTorch / hessbound |`);
say(`| ---: | --- | --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |`);

const ratios = new Map<string, number[]>();
const floorRows: { torchSeconds: number; torchHvps: number; products: number }[] = [];
const lambdas: number[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  const torch = spawnJson<TorchRun>([PYTHON, PEER_SCRIPT, 'lanczos', '--model', modelPath, '--data', dataPath, '--tol', TOL, '--repeat', '1'], baseEnv());
  lambdas.push(torch.lambdaMax);
  say(`| ${round} | PyTorch ${'+'} eigsh | (OpenBLAS's own) | dense | ${torch.seconds.total.toFixed(2)} | ${torch.hvps} | ${torch.lambdaMax.toPrecision(15)} | ` +
    `${torch.residual.toExponential(1)} | graph ${torch.seconds.gradGraph.toFixed(2)}, HVPs ${(torch.seconds.perHvp * torch.hvps).toFixed(2)} | | |`);
  // Each SIMD path with the default layer-0 format (auto: by X's density), and the first path once
  // more with the dense GEMMs forced, to show what reading X by its nonzeros buys in the same round.
  const runs = [...PATHS.map((path) => ({ path, format: 'auto' })), { path: PATHS[0]!, format: 'dense' }];
  for (const { path, format } of runs) {
    const hb = spawnJson<HbRun>([process.execPath, '--import', 'tsx', join(BENCH_DIR, 'lib', 'lanczos-point.ts'), String(N), String(WIDTH), TOL], {
      ...baseEnv(),
      HESSBOUND_SIMD: path,
      HESSBOUND_SPARSE_INPUTS: format,
    });
    if (hb.lambdaMax !== null) lambdas.push(hb.lambdaMax);
    if (path === PATHS[0] && format === 'auto') floorRows.push({ torchSeconds: torch.seconds.total, torchHvps: torch.hvps, products: hb.products ?? 0 });
    const ratio = torch.seconds.total / hb.seconds;
    const key = `${path}, layer 0 ${hb.inputs ?? '?'}`;
    ratios.set(key, [...(ratios.get(key) ?? []), ratio]);
    const phases = Object.entries(hb.phases).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ');
    say(`| ${round} | hessbound | ${hb.simd ?? '?'} | ${hb.inputs ?? '?'} | ${hb.seconds.toFixed(2)} | ${hb.products ?? '-'} | ${hb.lambdaMax?.toPrecision(15) ?? `not converged`} | ` +
      `${hb.residual?.toExponential(1) ?? '-'} | ${phases} | ${(hb.maxRssBytes / 2 ** 30).toFixed(2)} GiB | **${ratio.toFixed(2)}x** |`);
  }
}
say();
const spread = (Math.max(...lambdas) - Math.min(...lambdas)) / Math.abs(median(lambdas));
say(`lambda_max agrees across sides, paths and rounds to ${spread.toExponential(1)} relative.`);
for (const [path, r] of ratios)
  say(`- ${path}: PyTorch / hessbound ${r.map((x) => x.toFixed(2)).join(', ')} (median ${median(r).toFixed(2)}x; target >= 3x).`);
say(`Load average at the end: ${loadavg().map((x) => x.toFixed(2)).join(' / ')}.`);
say();

// The floor: a product of one hidden layer has two N x d x h GEMMs (R(u_0) = X V_0^T and
// (Hv)_W(0) = R(delta_0)^T X), which dense arithmetic cannot skip; the forward pass two more
// (X W_0^T, and the gradient's delta_0^T X). Their one-thread time at OpenBLAS's own kernels (numpy
// on the system OpenBLAS, the library the addon links statically), best of 5, in this run.
const gemmScript = `
import json, time, numpy as np
r = np.random.default_rng(0)
X = r.standard_normal((${N}, ${data.d})); W = r.standard_normal((${WIDTH}, ${data.d})); D = r.standard_normal((${N}, ${WIDTH}))
def best(f):
    f(); t = []
    for _ in range(5):
        t0 = time.perf_counter(); f(); t.append(time.perf_counter() - t0)
    return min(t)
print(json.dumps({"forward": best(lambda: X @ W.T), "params": best(lambda: D.T @ X), "numpy": np.__version__}))`;
const gemm = spawnJson<{ forward: number; params: number; numpy: string }>([PYTHON, '-c', gemmScript], baseEnv());
const pair = gemm.forward + gemm.params;
const flops = 2 * N * data.d * WIDTH;
say(`## The floor of dense arithmetic`);
say();
say(`One-thread GEMMs of the product's shapes (numpy ${gemm.numpy}, system OpenBLAS, its own kernels, best of 5): ` +
  `X V^T ${(gemm.forward * 1e3).toFixed(0)} ms (${(flops / gemm.forward / 1e9).toFixed(1)} GFLOP/s), R(delta)^T X ${(gemm.params * 1e3).toFixed(0)} ms ` +
  `(${(flops / gemm.params / 1e9).toFixed(1)} GFLOP/s).`);
say();
say(`A Hessian-vector product needs at least these two GEMMs (${(pair * 1e3).toFixed(0)} ms), and PyTorch's double-backprop HVP at least as many; ` +
  `so with dense inputs, hessbound's lambda_max costs at least products x ${(pair * 1e3).toFixed(0)} ms + one forward/gradient pass (${(pair * 1e3).toFixed(0)} ms), ` +
  `and the ratio to PyTorch can exceed 3x only if PyTorch spends more than 3x that floor. ` +
  `Reading X by its nonzeros (${(100 * density).toFixed(1)}% here) is not held to this floor; the rows with layer 0 sparse show what it buys:`);
say();
say(`| round | PyTorch: seconds | PyTorch: HVPs | PyTorch / its floor (HVPs x 2 GEMMs) | hessbound floor (products x 2 GEMMs + 2) | best ratio possible (PyTorch / hessbound floor) |`);
say(`| ---: | ---: | ---: | ---: | ---: | ---: |`);
floorRows.forEach((f, i) => {
  const hbFloor = (f.products + 1) * pair;
  say(`| ${i + 1} | ${f.torchSeconds.toFixed(2)} | ${f.torchHvps} | ${(f.torchSeconds / (f.torchHvps * pair)).toFixed(2)}x | ${hbFloor.toFixed(2)} s | ${(f.torchSeconds / hbFloor).toFixed(2)}x |`);
});
say();
const plan = (n: number, d: number, h: number, c: number, iterations: number) => {
  const sizes = [d, h, c];
  const parts = [forwardCache(sizes, n), hvpScratch(sizes, n, 1), lanczosBasis(parameterCountOf(sizes), iterations)];
  const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;
  return `${parts.map((p) => `${p.what}: ${gib(p.bytes)}`).join('; ')}; total ${gib(parts.reduce((s, p) => s + p.bytes, 0))}`;
};
say(`Memory analyze() plans before it allocates (src/resources/memory-plan.ts, 300 iterations at most), besides the data:`);
say(`- ${N.toLocaleString('en-US')} x ${data.d} x ${WIDTH}: ${plan(N, data.d, WIDTH, data.classes, 300)}.`);
say(`- 60,000 x 784 x 1024: ${plan(60_000, 784, 1024, 10, 300)}.`);
if (values.md) writeFileSync(values.md, lines.join('\n') + '\n');
