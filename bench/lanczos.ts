/**
 * Bench B: lambda_max by Lanczos, one-hidden-layer tanh MLP of width 1024 on digits (all 1797
 * samples, P = 76 810). hessbound's matrix-free Lanczos (exact Hessian-vector products, full
 * reorthogonalization) against the PyTorch peer (double-backprop HVPs + scipy eigsh, which='LA'),
 * tolerance 1e-10 both; then the cost of one Hessian-vector product on each side.
 */
import { analyze, hvp, type AnalyzeResult } from '../src/index.js';
import { cliCommand } from './lib/cli.js';
import type { BenchOptions } from './lib/options.js';
import { peerCommand, peerUnavailable, runPeer, type PeerResult } from './lib/peer.js';
import { makeProblem } from './lib/problems.js';
import { fmtRatio, fmtSci, fmtSeconds, fmtSummary, relDiff, summarize, verdict, type Summary } from './lib/stats.js';
import { timeAsync, wholeProcessPairs, type WholeProcessResult } from './lib/timing.js';

const TOLERANCE = 1e-10;
const HVP_DIRECTIONS = 20;

export interface LanczosBenchResult {
  problem: string;
  hessbound: {
    call: Summary;
    /** forward + gradient, then Lanczos (kernel phase timings). */
    kernelTotal: Summary;
    lanczos: Summary;
    products: number;
    iterations: number;
    lambdaMax: number;
    residual: number;
    perProductInLanczos: number;
  };
  hessboundHvp: { k1: Summary; k20: Summary; perHvp: number };
  /** hessbound again, with the tolerance lowered until its residual is at most torch's achieved one. */
  hessboundMatched: { tolerance: number; kernelTotal: Summary; products: number; residual: number; lambdaMax: number } | null;
  torch: { lanczos: PeerResult; hvp: PeerResult } | { unavailable: string };
  ratios: Record<string, number>;
  wholeProcess: Record<string, WholeProcessResult & { a_cmd: string; b_cmd: string }>;
}

function directions(P: number, k: number, seed: number): Float64Array {
  // Deterministic pseudo-random directions (xorshift), uniform in [-1, 1).
  const v = new Float64Array(P * k);
  let s = (seed * 2654435761 + 1) >>> 0 || 1;
  for (let i = 0; i < v.length; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    v[i] = s / 2147483648 - 1;
  }
  return v;
}

export async function runLanczos(opt: BenchOptions): Promise<LanczosBenchResult> {
  console.log('\n== Bench B: lambda_max by Lanczos ==');
  const problem = makeProblem('digits', 1024);
  console.log(`problem: ${problem.describe}`);
  // bound: false - analyze() would otherwise add the closed-form traces and WS bound for one hidden
  // layer, which is not part of what the peer computes (and costs more than Lanczos here).
  const options = { method: 'lanczos' as const, which: 'largest' as const, k: 1, tolerance: TOLERANCE, backend: 'native' as const, bound: false };

  /** In-process timing of one Lanczos configuration: kernel phase totals and the last result. */
  async function timeLanczos(tolerance: number, samples: number): Promise<{ call: Summary; kernelTotal: Summary; lanczos: Summary; result: AnalyzeResult }> {
    const opts = { ...options, tolerance };
    let last: AnalyzeResult = await analyze(problem.model, problem.data, opts); // warm-up
    const total: number[] = [];
    const lz: number[] = [];
    const timed = await timeAsync(
      `analyze lanczos largest tol ${tolerance} (native)`,
      async () => {
        last = await analyze(problem.model, problem.data, opts);
        total.push((last.seconds['forward'] ?? 0) + (last.seconds['lanczos'] ?? 0));
        lz.push(last.seconds['lanczos'] ?? Number.NaN);
      },
      { minSamples: samples, maxTime: 0.5 },
    );
    return { call: timed.summary, kernelTotal: summarize(total), lanczos: summarize(lz), result: last };
  }

  // hessbound: whole analyze() calls in-process, and the kernel's own phase timings.
  const main = await timeLanczos(TOLERANCE, opt.samples);
  const result = main.result;
  const lz = result.lanczos;
  if (!lz || result.lambdaMax === null) throw new Error('hessbound Lanczos returned no lambda_max');
  const lanczos = main.lanczos;
  const hb = {
    call: main.call,
    kernelTotal: main.kernelTotal,
    lanczos,
    products: lz.products,
    iterations: lz.iterations,
    lambdaMax: result.lambdaMax,
    residual: lz.topResiduals[0] ?? Number.NaN,
    perProductInLanczos: lanczos.median / lz.products,
  };
  console.log(
    `hessbound native: analyze() call ${fmtSummary(hb.call)}; kernel: forward+Lanczos ${fmtSummary(hb.kernelTotal)}; ` +
      `${hb.products} Hessian-vector products (${hb.iterations} Lanczos steps + 1 for the true residual), ` +
      `${fmtSeconds(hb.perProductInLanczos)} per product including reorthogonalization; ` +
      `lambda_max ${hb.lambdaMax.toPrecision(14)}, residual ${fmtSci(hb.residual)}, converged ${String(lz.converged)}`,
  );

  // hessbound: cost of one product, from hvp() with 20 directions minus hvp() with 1 (same set-up).
  const P = problem.parameters;
  const v20 = directions(P, HVP_DIRECTIONS, 1);
  const v1 = v20.slice(0, P);
  await hvp(problem.model, problem.data, v1, { backend: 'native' }); // warm-up
  const k1 = await timeAsync('hvp x1', () => hvp(problem.model, problem.data, v1, { backend: 'native' }), { minSamples: opt.samples, maxTime: 0.5 });
  const k20 = await timeAsync(`hvp x${HVP_DIRECTIONS}`, () => hvp(problem.model, problem.data, v20, { backend: 'native' }), { minSamples: opt.samples, maxTime: 0.5 });
  const perHvp = (k20.summary.median - k1.summary.median) / (HVP_DIRECTIONS - 1);
  console.log(
    `hessbound hvp(): 1 direction ${fmtSummary(k1.summary)}, ${HVP_DIRECTIONS} directions ${fmtSummary(k20.summary)} ` +
      `(each call includes the forward pass); per product (difference / ${HVP_DIRECTIONS - 1}) ${fmtSeconds(perHvp)}`,
  );

  const ratios: Record<string, number> = {};
  let hessboundMatched: LanczosBenchResult['hessboundMatched'] = null;
  let torch: LanczosBenchResult['torch'];
  const peerWhy = opt.noPeer ? 'skipped (--no-peer)' : peerUnavailable();
  if (peerWhy) {
    torch = { unavailable: peerWhy };
    console.log(`torch peer: ${peerWhy}`);
  } else {
    const tl = runPeer('lanczos', problem.modelPath, problem.dataPath, ['--repeat', String(Math.min(opt.peerRepeat, 3)), '--tol', String(TOLERANCE)]);
    const th = runPeer('hvp', problem.modelPath, problem.dataPath, ['--repeat', String(HVP_DIRECTIONS)]);
    torch = { lanczos: tl, hvp: th };
    console.log(
      `torch ${tl.torch} + scipy ${tl.scipy ?? '?'} eigsh (threads ${tl.threads}): total ${fmtSeconds(tl.seconds['total']!)} ` +
        `(run with the median total of ${Math.min(opt.peerRepeat, 3)}; all: ${tl.secondsAll?.['total']?.map(fmtSeconds).join(', ')}), ` +
        `${tl.hvps} HVPs (the residual HVP not counted), ${fmtSeconds(tl.seconds['perHvp']!)} per HVP inside the callbacks, ` +
        `lambda_max ${tl.lambdaMax.toPrecision(14)}, residual ${fmtSci(tl.residual ?? Number.NaN)}`,
    );
    console.log(
      `torch hvp: ${HVP_DIRECTIONS} HVPs after a warm-up, median ${fmtSeconds(th.seconds['perHvpMedian']!)}, mean ${fmtSeconds(th.seconds['perHvp']!)} per HVP`,
    );

    ratios['lanczos_torchTotal_over_hessboundKernel'] = tl.seconds['total']! / hb.kernelTotal.median;
    ratios['lanczos_torchTotal_over_hessboundCall'] = tl.seconds['total']! / hb.call.median;
    ratios['perProductInSolver_torch_over_hessbound'] = tl.seconds['total']! / tl.hvps! / hb.perProductInLanczos;
    ratios['perHvp_torchMedian_over_hessbound'] = th.seconds['perHvpMedian']! / perHvp;
    ratios['perHvp_torchMean_over_hessbound'] = th.seconds['perHvp']! / perHvp;
    ratios['lambdaMax_relDiff'] = relDiff(hb.lambdaMax, tl.lambdaMax);
    console.log('results:');
    console.log(
      `  lambda_max time, torch total (gradient graph + eigsh) / hessbound (forward + Lanczos, kernel): ` +
        `${fmtRatio(ratios['lanczos_torchTotal_over_hessboundKernel']!)} (${verdict(ratios['lanczos_torchTotal_over_hessboundKernel']!, 3)}); ` +
        `/ whole hessbound analyze() call: ${fmtRatio(ratios['lanczos_torchTotal_over_hessboundCall']!)}`,
    );
    console.log(
      `  products: hessbound ${hb.products} (incl. 1 residual check), torch ${tl.hvps} (+1 uncounted residual check); ` +
        `time per product inside the solver, torch (total / HVPs) / hessbound: ${fmtRatio(ratios['perProductInSolver_torch_over_hessbound']!)}`,
    );
    console.log(
      `  one Hessian-vector product, torch / hessbound: ${fmtRatio(ratios['perHvp_torchMedian_over_hessbound']!)} (torch median), ` +
        `${fmtRatio(ratios['perHvp_torchMean_over_hessbound']!)} (torch mean)`,
    );
    console.log(
      `  lambda_max agreement |hessbound - torch| / torch: ${fmtSci(ratios['lambdaMax_relDiff']!)}; residuals hessbound ${fmtSci(hb.residual)}, torch ${fmtSci(tl.residual ?? Number.NaN)}`,
    );

    // ARPACK usually overshoots the tolerance; at torch's achieved accuracy hessbound needs more steps.
    const torchResidual = tl.residual ?? Number.NaN;
    if (Number.isFinite(torchResidual) && torchResidual > 0 && torchResidual < hb.residual) {
      const tolerance = Math.max(1e-15, 10 ** Math.floor(Math.log10(torchResidual)));
      const m = await timeLanczos(tolerance, Math.max(3, opt.samples - 2));
      const mz = m.result.lanczos;
      if (mz && m.result.lambdaMax !== null) {
        hessboundMatched = {
          tolerance,
          kernelTotal: m.kernelTotal,
          products: mz.products,
          residual: mz.topResiduals[0] ?? Number.NaN,
          lambdaMax: m.result.lambdaMax,
        };
        ratios['lanczosMatchedAccuracy_torchTotal_over_hessboundKernel'] = tl.seconds['total']! / m.kernelTotal.median;
        console.log(
          `  at torch's accuracy (hessbound tolerance ${tolerance}): ${mz.products} products, residual ${fmtSci(hessboundMatched.residual)}, ` +
            `forward+Lanczos ${fmtSummary(m.kernelTotal)}; torch / hessbound ${fmtRatio(ratios['lanczosMatchedAccuracy_torchTotal_over_hessboundKernel']!)} ` +
            `(${verdict(ratios['lanczosMatchedAccuracy_torchTotal_over_hessboundKernel']!, 3)})`,
        );
      }
    }
  }

  const wholeProcess: LanczosBenchResult['wholeProcess'] = {};
  if (opt.pairs > 0 && 'lanczos' in torch) {
    const cli = cliCommand();
    // The CLI always converges both ends (lambda_max and lambda_min); it has no --which option.
    // --no-bound: no closed-form traces, as in the in-process runs.
    const a = {
      label: 'hessbound CLI',
      argv: [...cli.argv, 'analyze', '--model', problem.modelPath, '--data', problem.dataPath, '--method', 'lanczos', '--k', '1', '--tolerance', String(TOLERANCE), '--no-bound', '--json', '--quiet', '--backend', 'native'],
    };
    const b = { label: 'torch peer', argv: peerCommand('lanczos', problem.modelPath, problem.dataPath, ['--tol', String(TOLERANCE)]) };
    const pairs = Math.min(opt.pairs, 3);
    console.log(`whole processes (${pairs} pairs, run in turn; CLI = ${cli.note}):`);
    try {
      const w = wholeProcessPairs(a, b, pairs);
      wholeProcess['cli_bothEnds_vs_torchLargest'] = { ...w, a_cmd: a.argv.join(' '), b_cmd: b.argv.join(' ') };
      console.log(
        `  hessbound analyze --method lanczos --k 1 (BOTH ends: lambda_max and lambda_min) ${fmtSummary(w.a)}; ` +
          `torch_peer.py lanczos (lambda_max only) ${fmtSummary(w.b)}; torch/hessbound per pair ${fmtRatio(w.ratioBoverA.median)} ` +
          `(${fmtRatio(w.ratioBoverA.min)}-${fmtRatio(w.ratioBoverA.max)})`,
      );
    } catch (e) {
      console.log(`  whole-process timing FAILED, no figures: ${(e as Error).message.split('\n').slice(0, 3).join(' / ')}`);
    }
  }
  return { problem: problem.describe, hessbound: hb, hessboundHvp: { k1: k1.summary, k20: k20.summary, perHvp }, hessboundMatched, torch, ratios, wholeProcess };
}
