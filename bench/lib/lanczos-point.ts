/**
 * Child process of bench/scale-lanczos.ts: lambda_max by analyze() (Lanczos, largest end only, no
 * bound) on the seeded synthetic digit set and model the parent wrote for the peer, timed in-process
 * (the whole call: problem conversion, forward pass, Lanczos, diagnostics). Run with
 * OPENBLAS_NUM_THREADS / HESSBOUND_THREADS / HESSBOUND_SIMD / HESSBOUND_SPARSE_INPUTS set by the parent. Prints one JSON line.
 *
 *   node --import tsx bench/lib/lanczos-point.ts N WIDTH TOLERANCE
 */
import { analyze, getBackend, randomModel } from '../../src/index.js';
import { syntheticDigits } from './synthetic-digits.js';

const [n = '10000', width = '256', tolerance = '1e-10'] = process.argv.slice(2);
const data = syntheticDigits({ n: Number(n) });
const model = randomModel({ inputs: data.d, hidden: [Number(width)], classes: data.classes, activation: 'tanh', seed: 0 });
const backend = await getBackend('native');
const t0 = performance.now();
const r = await analyze(model, data, { method: 'lanczos', which: 'largest', k: 1, tolerance: Number(tolerance), bound: false, backend: 'native' });
const seconds = (performance.now() - t0) / 1000;
process.stdout.write(
  `${JSON.stringify({
    seconds,
    phases: r.seconds,
    lambdaMax: r.lambdaMax,
    products: r.lanczos?.products ?? null,
    inputs: r.lanczos?.inputs ?? null,
    iterations: r.lanczos?.iterations ?? null,
    residual: r.lanczos?.topResiduals[0] ?? null,
    converged: r.converged,
    flags: r.diagnostics.flags,
    simd: backend.addonInfo?.simd ?? null,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
  })}\n`,
);
