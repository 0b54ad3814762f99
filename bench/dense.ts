/**
 * Bench A: dense Hessian + full spectrum, one-hidden-layer tanh MLP on iris, width 256 (P = 2051).
 * hessbound native (Kronecker assembly + LAPACK dsyevd), hessbound WebAssembly (when built) and the
 * PyTorch peer (torch.autograd.functional.hessian + torch.linalg.eigvalsh, vectorize off and on),
 * all on the same model and data.
 */
import { analyze, type AnalyzeResult, type BackendName } from '../src/index.js';
import { cliCommand } from './lib/cli.js';
import { wasmUnavailable } from './lib/machine.js';
import type { BenchOptions } from './lib/options.js';
import { peerCommand, peerUnavailable, runPeer, type PeerResult } from './lib/peer.js';
import { makeProblem, type Problem } from './lib/problems.js';
import { fmtRatio, fmtSci, fmtSeconds, fmtSummary, relDiff, summarize, verdict, type Summary } from './lib/stats.js';
import { timeAsync, wholeProcessPairs, type WholeProcessResult } from './lib/timing.js';

interface HessboundDense {
  backend: BackendName;
  /** The whole analyze() call, in-process (Benchmark.js samples). */
  call: Summary;
  /** The kernel's own phase timings over every timed call. */
  hessian: Summary;
  eigen: Summary;
  result: AnalyzeResult;
}

interface Accuracy {
  lambdaMax: number;
  lambdaMin: number;
  trace: number;
  traceOfSquare: number;
  loss: number;
  /** max_i |lambda_i - lambda_i'| / max |lambda| over the whole spectrum. */
  spectrum: number;
}

export interface DenseBenchResult {
  problem: string;
  native: HessboundDense;
  wasm: HessboundDense | { unavailable: string };
  torch: { default: PeerResult; vectorize: PeerResult | null } | { unavailable: string };
  ratios: Record<string, number>;
  accuracy: { nativeVsTorch: Accuracy | null; wasmVsNative: Accuracy | null };
  wholeProcess: Record<string, WholeProcessResult & { a_cmd: string; b_cmd: string }>;
}

async function timeHessbound(problem: Problem, backend: BackendName, samples: number): Promise<HessboundDense> {
  const options = { method: 'dense' as const, backend, k: 1 };
  let result = await analyze(problem.model, problem.data, options); // warm-up: loads the backend, faults in memory
  const hessian: number[] = [];
  const eigen: number[] = [];
  const timed = await timeAsync(
    `analyze dense (${backend})`,
    async () => {
      result = await analyze(problem.model, problem.data, options);
      hessian.push(result.seconds['hessian'] as number);
      eigen.push(result.seconds['eigen'] as number);
    },
    { minSamples: samples, maxTime: 0.5 },
  );
  return { backend, call: timed.summary, hessian: summarize(hessian), eigen: summarize(eigen), result };
}

function accuracy(a: { lambdaMax: number | null; lambdaMin: number | null; trace: number | null; traceOfSquare: number | null; loss: number; eigenvalues?: number[] }, ref: { lambdaMax: number | null; lambdaMin?: number | null; trace?: number | null; traceOfSquare?: number | null; loss: number; eigenvalues?: number[] }): Accuracy {
  let spectrum = Number.NaN;
  if (a.eigenvalues && ref.eigenvalues && a.eigenvalues.length === ref.eigenvalues.length) {
    const scale = Math.max(...ref.eigenvalues.map(Math.abs));
    spectrum = Math.max(...a.eigenvalues.map((v, i) => Math.abs(v - (ref.eigenvalues as number[])[i]!))) / scale;
  }
  return {
    lambdaMax: relDiff(a.lambdaMax, ref.lambdaMax),
    lambdaMin: relDiff(a.lambdaMin, ref.lambdaMin),
    trace: relDiff(a.trace, ref.trace),
    traceOfSquare: relDiff(a.traceOfSquare, ref.traceOfSquare),
    loss: relDiff(a.loss, ref.loss),
    spectrum,
  };
}

function printAccuracy(label: string, acc: Accuracy): void {
  console.log(
    `  ${label}: relative difference lambdaMax ${fmtSci(acc.lambdaMax)}, lambdaMin ${fmtSci(acc.lambdaMin)}, ` +
      `trace ${fmtSci(acc.trace)}, tr(H^2) ${fmtSci(acc.traceOfSquare)}, loss ${fmtSci(acc.loss)}; ` +
      `whole spectrum ${fmtSci(acc.spectrum)} (max |diff| / max |lambda|)` +
      `; worst of lambdaMax/lambdaMin/trace ${fmtSci(Math.max(acc.lambdaMax, acc.lambdaMin, acc.trace))}`,
  );
}

export async function runDense(opt: BenchOptions): Promise<DenseBenchResult> {
  console.log('\n== Bench A: dense Hessian + full spectrum ==');
  const problem = makeProblem('iris', 256);
  console.log(`problem: ${problem.describe}`);

  // hessbound, native
  const native = await timeHessbound(problem, 'native', opt.samples);
  console.log(
    `hessbound native (${native.result.backend}, Kronecker assembly, LAPACK dsyevd): analyze() call ${fmtSummary(native.call)}; ` +
      `kernel phases: Hessian ${fmtSummary(native.hessian)} (includes tr(H), tr(H^2)), eigensolve ${fmtSummary(native.eigen)}`,
  );

  // hessbound, WebAssembly
  let wasm: HessboundDense | { unavailable: string };
  const wasmWhy = wasmUnavailable();
  if (wasmWhy) {
    wasm = { unavailable: wasmWhy };
    console.log(`hessbound wasm: ${wasmWhy} - NO wasm figures in this run`);
  } else {
    try {
      wasm = await timeHessbound(problem, 'wasm', Math.min(opt.samples, 5));
      console.log(
        `hessbound wasm (Eigen): analyze() call ${fmtSummary(wasm.call)}; kernel phases: Hessian ${fmtSummary(wasm.hessian)}, ` +
          `eigensolve ${fmtSummary(wasm.eigen)}`,
      );
    } catch (e) {
      wasm = { unavailable: `failed to run: ${(e as Error).message.split('\n')[0]}` };
      console.log(`hessbound wasm: ${wasm.unavailable} - NO wasm figures in this run`);
    }
  }

  // PyTorch
  let torch: DenseBenchResult['torch'];
  const peerWhy = opt.noPeer ? 'skipped (--no-peer)' : peerUnavailable();
  if (peerWhy) {
    torch = { unavailable: peerWhy };
    console.log(`torch peer: ${peerWhy}`);
  } else {
    const def = runPeer('dense', problem.modelPath, problem.dataPath, ['--repeat', String(opt.peerRepeat), '--eigenvalues']);
    console.log(
      `torch ${def.torch} (threads ${def.threads}), hessian(vectorize=False): Hessian ${fmtSeconds(def.seconds['hessian']!)}, ` +
        `eigvalsh ${fmtSeconds(def.seconds['eigvalsh']!)} (median of ${opt.peerRepeat}, first run cold; all: ${def.secondsAll?.['hessian']?.map(fmtSeconds).join(', ')})`,
    );
    let vec: PeerResult | null = null;
    if (opt.vectorizeRepeat > 0) {
      vec = runPeer('dense', problem.modelPath, problem.dataPath, ['--repeat', String(opt.vectorizeRepeat), '--vectorize']);
      console.log(
        `torch hessian(vectorize=True) [the issue's "6-9 s" figure]: Hessian ${fmtSeconds(vec.seconds['hessian']!)} ` +
          `(median of ${opt.vectorizeRepeat}, first run cold; all: ${vec.secondsAll?.['hessian']?.map(fmtSeconds).join(', ')}), eigvalsh ${fmtSeconds(vec.seconds['eigvalsh']!)}`,
      );
    }
    torch = { default: def, vectorize: vec };
  }

  // Ratios (medians of the same run)
  const ratios: Record<string, number> = {};
  const acc: DenseBenchResult['accuracy'] = { nativeVsTorch: null, wasmVsNative: null };
  console.log('results:');
  if ('default' in torch) {
    const def = torch.default;
    ratios['hessianBuild_torchDefault_over_native'] = def.seconds['hessian']! / native.hessian.median;
    ratios['eigensolve_torch_over_native'] = def.seconds['eigvalsh']! / native.eigen.median;
    ratios['total_torchDefault_over_nativeCall'] = (def.seconds['hessian']! + def.seconds['eigvalsh']!) / native.call.median;
    console.log(
      `  Hessian build, torch hessian(vectorize=False) / hessbound native: ${fmtRatio(ratios['hessianBuild_torchDefault_over_native']!)} ` +
        `(${verdict(ratios['hessianBuild_torchDefault_over_native']!, 100)})`,
    );
    if (torch.vectorize) {
      const vec = torch.vectorize;
      ratios['hessianBuild_torchVectorize_over_native'] = vec.seconds['hessian']! / native.hessian.median;
      console.log(
        `  Hessian build, torch hessian(vectorize=True) / hessbound native:  ${fmtRatio(ratios['hessianBuild_torchVectorize_over_native']!)} ` +
          `(${verdict(ratios['hessianBuild_torchVectorize_over_native']!, 100)})`,
      );
    }
    console.log(
      `  Eigensolve, torch eigvalsh / hessbound dsyevd: ${fmtRatio(ratios['eigensolve_torch_over_native']!)} ` +
        `(target: as fast as LAPACK, i.e. >= 1x: ${ratios['eigensolve_torch_over_native']! >= 1 ? 'met' : 'MISSED'})`,
    );
    console.log(
      `  Hessian + spectrum, torch (vectorize=False, both phases) / whole hessbound analyze() call: ${fmtRatio(ratios['total_torchDefault_over_nativeCall']!)}`,
    );
    acc.nativeVsTorch = accuracy(native.result, def);
    printAccuracy('accuracy native vs torch', acc.nativeVsTorch);
  }
  if ('result' in wasm) {
    ratios['hessianBuild_wasm_over_native'] = wasm.hessian.median / native.hessian.median;
    ratios['eigensolve_wasm_over_native'] = wasm.eigen.median / native.eigen.median;
    console.log(
      `  wasm / native time: Hessian build ${fmtRatio(ratios['hessianBuild_wasm_over_native']!)}, eigensolve ${fmtRatio(ratios['eigensolve_wasm_over_native']!)}`,
    );
    if ('default' in torch) {
      ratios['hessianBuild_torchDefault_over_wasm'] = torch.default.seconds['hessian']! / wasm.hessian.median;
      ratios['eigensolve_torch_over_wasm'] = torch.default.seconds['eigvalsh']! / wasm.eigen.median;
      console.log(
        `  torch (vectorize=False) / wasm: Hessian build ${fmtRatio(ratios['hessianBuild_torchDefault_over_wasm']!)}, eigensolve ${fmtRatio(ratios['eigensolve_torch_over_wasm']!)}`,
      );
    }
    acc.wasmVsNative = accuracy(wasm.result, native.result);
    printAccuracy('accuracy wasm vs native', acc.wasmVsNative);
  }

  // Whole processes: the CLI against the peer script, each started from scratch.
  const wholeProcess: DenseBenchResult['wholeProcess'] = {};
  if (opt.pairs > 0 && 'default' in torch) {
    const cli = cliCommand();
    const hb = {
      label: 'hessbound CLI',
      argv: [...cli.argv, 'analyze', '--model', problem.modelPath, '--data', problem.dataPath, '--method', 'dense', '--json', '--quiet', '--backend', 'native'],
    };
    const peer = { label: 'torch peer', argv: peerCommand('dense', problem.modelPath, problem.dataPath) };
    console.log(`whole processes (${opt.pairs} pairs, run in turn; CLI = ${cli.note}):`);
    try {
      const w = wholeProcessPairs(hb, peer, opt.pairs);
      wholeProcess['cli_vs_torchDefault'] = { ...w, a_cmd: hb.argv.join(' '), b_cmd: peer.argv.join(' ') };
      console.log(
        `  hessbound analyze --method dense ${fmtSummary(w.a)}; torch_peer.py dense ${fmtSummary(w.b)}; ` +
          `torch/hessbound per pair ${fmtRatio(w.ratioBoverA.median)} (${fmtRatio(w.ratioBoverA.min)}-${fmtRatio(w.ratioBoverA.max)})`,
      );
      if (torch.vectorize) {
        const pv = { label: 'torch peer --vectorize', argv: peerCommand('dense', problem.modelPath, problem.dataPath, ['--vectorize']) };
        const wv = wholeProcessPairs(hb, pv, Math.min(opt.pairs, 3));
        wholeProcess['cli_vs_torchVectorize'] = { ...wv, a_cmd: hb.argv.join(' '), b_cmd: pv.argv.join(' ') };
        console.log(
          `  hessbound analyze --method dense ${fmtSummary(wv.a)}; torch_peer.py dense --vectorize ${fmtSummary(wv.b)}; ` +
            `torch/hessbound per pair ${fmtRatio(wv.ratioBoverA.median)} (${fmtRatio(wv.ratioBoverA.min)}-${fmtRatio(wv.ratioBoverA.max)})`,
        );
      }
    } catch (e) {
      console.log(`  whole-process timing FAILED, no figures: ${(e as Error).message.split('\n').slice(0, 3).join(' / ')}`);
    }
  }
  return { problem: problem.describe, native, wasm, torch, ratios, accuracy: acc, wholeProcess };
}
