/**
 * Runs the hessbound benches: all of them, or the ones named on the command line.
 *
 *   npm run bench                         # every bench but the (long) sweep
 *   npm run bench -- dense                # Bench A only (also: lanczos, closed-form, wasm, sweep)
 *   npm run bench -- --quick              # smoke test: few samples (not figures to quote)
 *   npm run bench -- --json results.json  # also write every figure as JSON
 *   npm run bench -- --keep-inputs DIR    # keep the model/data JSON files for commands run by hand
 *   npm run bench -- inputs --keep-inputs DIR   # only write those files
 *
 * See bench/README.md for what each bench measures and the recorded results.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

import { runClosedForm } from './closed-form.js';
import { runDense } from './dense.js';
import { runLanczos } from './lanczos.js';
import { runSweepBench } from './sweep.js';
import { runWasmVsNative } from './wasm-vs-native.js';
import { machineInfo, printMachine } from './lib/machine.js';
import { DEFAULT_OPTIONS, QUICK_OPTIONS, type BenchOptions } from './lib/options.js';
import { keepInputsIn, makeProblem } from './lib/problems.js';

const BENCHES: Record<string, (opt: BenchOptions) => Promise<unknown>> = {
  dense: runDense,
  lanczos: runLanczos,
  'closed-form': runClosedForm,
  wasm: runWasmVsNative,
  sweep: runSweepBench,
};
/** Run only when named: the sweep bench takes tens of minutes. */
const ON_REQUEST = new Set(['sweep']);

/** Not a bench: writes the two problems' JSON files (with --keep-inputs DIR) for commands run by hand. */
async function writeInputs(): Promise<unknown> {
  const files = [makeProblem('iris', 256), makeProblem('digits', 1024)].map((p) => ({ problem: p.describe, model: p.modelPath, data: p.dataPath }));
  for (const f of files) console.log(`${f.problem}\n  ${f.model}\n  ${f.data}`);
  return files;
}
const ALIASES: Record<string, string> = { a: 'dense', b: 'lanczos', c: 'closed-form', closedform: 'closed-form', bound: 'closed-form', d: 'wasm', 'wasm-vs-native': 'wasm', e: 'sweep' };

const USAGE = `usage: npm run bench -- [${Object.keys(BENCHES).join('|')} ...] [options]

  dense      Bench A: dense Hessian + full spectrum, tanh MLP 4-256-3 on iris (P = 2051)
  lanczos    Bench B: lambda_max by Lanczos, tanh MLP 64-1024-10 on digits (P = 76 810), and per-HVP cost
  closed-form  Bench C: closed-form WS bound vs Lanczos lambda_max vs dense eigen-solve, digits widths 16..4096,
             dual vs primal crossover, small N (about 10 min; --quick about 30 s)
  wasm       Bench D: WebAssembly / native time ratios (dense Hessian, eigensolve, Lanczos; two sizes each),
             native with 1 BLAS thread and with OpenBLAS's default (about 1.5 min)
  sweep      Bench E: hessbound sweep on digits, widths 16..2048 x 3 seeds, 1 and 2 workers, time per phase
             (about 7 min here; only when named; results in bench/results/)
             (no name: every bench but sweep)
  inputs     no bench: only write both problems' model/data JSON files (use with --keep-inputs DIR)
options:
  --quick                 few samples and runs: a smoke test, not figures to quote
  --samples N             in-process samples per hessbound measurement (default ${DEFAULT_OPTIONS.samples})
  --peer-repeat N         repeats inside each PyTorch run, median reported (default ${DEFAULT_OPTIONS.peerRepeat}; Lanczos at most 3)
  --vectorize-repeat N    repeats of torch's vectorize=True dense Hessian, 0 to skip it (default ${DEFAULT_OPTIONS.vectorizeRepeat})
  --pairs N               whole-process A/B pairs, 0 to skip them (default ${DEFAULT_OPTIONS.pairs})
  --no-peer               skip PyTorch
  --json FILE             write every figure to FILE as JSON
  --keep-inputs DIR       write the model/data JSON files to DIR and keep them (default: a temporary folder)
  --widths LIST           closed-form and sweep: hidden widths, e.g. 16,64,1024 (default: each bench's list)
  --seeds K               sweep: seeds 0..K-1 (default 3)
  --workers LIST          sweep: worker counts, one sweep each (default 1,2; 0: no sweep, only the lambda_max phase split)`;

function positiveInt(value: string | undefined, flag: string, min = 0): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < min) {
    console.error(`run-all: ${flag} needs an integer >= ${min}\n\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

function parseArgs(argv: string[]): { names: string[]; opt: BenchOptions; json?: string } {
  const names: string[] = [];
  let opt: BenchOptions = { ...DEFAULT_OPTIONS };
  const overrides: Partial<BenchOptions> = {};
  let json: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    switch (a) {
      case '-h':
      case '--help':
        console.log(USAGE);
        process.exit(0);
        break;
      case '--quick':
        opt = { ...QUICK_OPTIONS };
        break;
      case '--samples':
        overrides.samples = positiveInt(argv[++i], a, 1);
        break;
      case '--peer-repeat':
        overrides.peerRepeat = positiveInt(argv[++i], a, 1);
        break;
      case '--vectorize-repeat':
        overrides.vectorizeRepeat = positiveInt(argv[++i], a);
        break;
      case '--pairs':
        overrides.pairs = positiveInt(argv[++i], a);
        break;
      case '--no-peer':
        overrides.noPeer = true;
        break;
      case '--keep-inputs': {
        const dir = argv[++i];
        if (!dir) {
          console.error(`run-all: --keep-inputs needs a folder\n\n${USAGE}`);
          process.exit(2);
        }
        keepInputsIn(resolve(dir));
        break;
      }
      case '--widths':
      case '--workers': {
        const list = (argv[++i] ?? '').split(',').map((x) => positiveInt(x.trim(), a, a === '--workers' ? 0 : 1));
        if (a === '--widths') overrides.widths = list;
        else overrides.workers = list;
        break;
      }
      case '--seeds':
        overrides.seeds = positiveInt(argv[++i], a, 1);
        break;
      case '--json':
        json = argv[++i];
        if (!json) {
          console.error(`run-all: --json needs a file name\n\n${USAGE}`);
          process.exit(2);
        }
        break;
      default: {
        const name = ALIASES[a.toLowerCase()] ?? a.toLowerCase();
        if (!BENCHES[name] && name !== 'inputs') {
          console.error(`run-all: unknown bench or option '${a}'\n\n${USAGE}`);
          process.exit(2);
        }
        if (!names.includes(name)) names.push(name);
      }
    }
  }
  return { names: names.length ? names : Object.keys(BENCHES).filter((n) => !ON_REQUEST.has(n)), opt: { ...opt, ...overrides }, ...(json ? { json } : {}) };
}

async function main(): Promise<void> {
  const { names, opt, json } = parseArgs(process.argv.slice(2));
  const machine = await machineInfo();
  printMachine(machine);
  console.log(
    `benches: ${names.join(', ')}; in-process samples ${opt.samples}, peer repeats ${opt.peerRepeat}, whole-process pairs ${opt.pairs}` +
      (opt.quick ? ' (QUICK: a smoke test, not figures to quote)' : ''),
  );
  const results: Record<string, unknown> = {};
  for (const name of names) results[name] = name === 'inputs' ? await writeInputs() : await (BENCHES[name] as (o: BenchOptions) => Promise<unknown>)(opt);
  const after = (await machineInfo()).loadAverage;
  console.log(`\nload average at the end: ${after.join(' / ')}`);
  if (json) {
    writeFileSync(json, `${JSON.stringify({ date: new Date().toISOString(), machine, loadAverageAfter: after, options: opt, results }, null, 2)}\n`);
    console.log(`wrote ${json}`);
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
