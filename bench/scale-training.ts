/**
 * Mini-batch training against PyTorch (issue 25, items 5 and 7): seconds per epoch of hessbound's
 * `train --batch-size B` against a float64 PyTorch mini-batch loop (bench/peers/torch_minibatch_peer.py:
 * the same model, start, data, batch size, optimizer and weight decay), in the same run.
 *
 * Data: a seeded 10,000 x 784 synthetic handwritten-digit set (bench/lib/synthetic-digits.ts) and
 * the embedded digits (1,797 x 64, standardized). Both sides read the same .npy files and model JSON.
 *
 * - hessbound: the CLI as a whole process, `--check-every 0 --grad-tol 0` (no full-batch checks
 *   during the epochs); the figure is the kernel's own time of the epochs' updates (shuffle, gather,
 *   batch evaluation, step: `minibatch.seconds` of the result) divided by the epochs.
 * - PyTorch: the median of its epochs after one warm-up epoch (the loop only; data in tensors).
 * - Both as wall time and as processor time of the process (all threads: `minibatch.cpuSeconds`,
 *   Python's time.process_time()): on a machine shared with other jobs the wall time also counts
 *   the waits for a core, which the processor time leaves out (it still counts spinning threads).
 * Rounds alternate the two sides; ratios are PyTorch / hessbound within a round, then the median.
 * Threads: OPENBLAS_NUM_THREADS = HESSBOUND_THREADS = t for hessbound, TORCH_THREADS = t for PyTorch.
 *
 *   node --import tsx bench/scale-training.ts [--widths 128,256] [--batch 128] [--epochs 4]
 *     [--threads 1,2] [--rounds 3] [--optimizers adam,sgd] [--sets synthetic,digits] [--md FILE]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { loadDataset, modelToJson, parameterCount, randomModel, type Dataset } from '../src/index.js';
import { cliCommand } from './lib/cli.js';
import { machineInfo } from './lib/machine.js';
import { writeNpyFloat64, writeNpyInt32 } from './lib/npy-write.js';
import { BENCH_DIR, PYTHON } from './lib/peer.js';
import { median } from './lib/stats.js';
import { syntheticDigits } from './lib/synthetic-digits.js';

const { values } = parseArgs({
  options: {
    widths: { type: 'string', default: '128,256' },
    batch: { type: 'string', default: '128' },
    epochs: { type: 'string', default: '4' },
    threads: { type: 'string', default: '1,2' },
    rounds: { type: 'string', default: '3' },
    optimizers: { type: 'string', default: 'adam,sgd' },
    sets: { type: 'string', default: 'synthetic,digits' },
    md: { type: 'string' },
  },
});
const list = (s: string): string[] => s.split(',').map((v) => v.trim()).filter(Boolean);
const WIDTHS = list(values.widths).map(Number);
const BATCH = Number(values.batch);
const EPOCHS = Number(values.epochs);
const THREADS = list(values.threads).map(Number);
const ROUNDS = Number(values.rounds);
const OPTIMIZERS = list(values.optimizers) as Array<'adam' | 'sgd'>;
const SETS = list(values.sets);
const PEER = join(BENCH_DIR, 'peers', 'torch_minibatch_peer.py');
const CLI = cliCommand();
const dir = mkdtempSync(join(tmpdir(), 'hessbound-scale-training-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const LR = { adam: 0.01, sgd: 0.05 } as const;
const MOMENTUM = 0.9;
const WEIGHT_DECAY = 1e-3;

const lines: string[] = [];
const say = (line = ''): void => {
  lines.push(line);
  console.log(line);
};

function run(argv: string[], env: Record<string, string>): string {
  const [file, ...args] = argv;
  const r = spawnSync(file as string, args, { env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${String(r.status)}\n${r.stderr.slice(-2000)}`);
  return r.stdout;
}

/** The SIMD path of training's products and elementwise loops on this CPU (train_eval.cpp, gemm512.cpp). */
function simdPath(): string {
  const flags = new Set(readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags'))?.split(':')[1]?.trim().split(/\s+/) ?? []);
  if (flags.has('avx512f') && flags.has('fma')) return 'AVX-512F: the hand-written 512-bit products (gemm512.cpp) and the avx512f clones of the elementwise loops';
  if (flags.has('avx2') && flags.has('fma')) return 'AVX2+FMA: OpenBLAS products and the haswell clones of the elementwise loops';
  return 'baseline x86-64 (no AVX2/AVX-512): OpenBLAS products and the default elementwise loops';
}

interface SetFiles {
  name: string;
  describe: string;
  data: Dataset;
  xPath: string;
  yPath: string;
}

function writeSet(name: string, data: Dataset, describe: string): SetFiles {
  const xPath = join(dir, `${name}.x.npy`);
  const yPath = join(dir, `${name}.y.npy`);
  writeNpyFloat64(xPath, data.x, data.n, data.d);
  writeNpyInt32(yPath, data.labels ?? new Int32Array(0));
  return { name, describe, data, xPath, yPath };
}

function dataSets(): SetFiles[] {
  const sets: SetFiles[] = [];
  for (const name of SETS) {
    if (name === 'synthetic') sets.push(writeSet(name, syntheticDigits({ n: 10_000, seed: 0 }), 'synthetic digits (bench/lib/synthetic-digits.ts, seed 0): N = 10,000, d = 784 (28 x 28 in [0, 1]), 10 classes'));
    else if (name === 'digits') sets.push(writeSet(name, loadDataset('digits'), 'digits (embedded, standardized): N = 1,797, d = 64, 10 classes'));
    else throw new Error(`unknown set ${name} (synthetic, digits)`);
  }
  return sets;
}

interface Row {
  set: string;
  width: number;
  parameters: number;
  optimizer: string;
  threads: number;
  hessbound: number[];
  torch: number[];
  ratios: number[];
  hessboundCpu: number[];
  torchCpu: number[];
  cpuRatios: number[];
  lossHessbound: number;
  lossTorch: number;
  torchInfo: string;
}

interface Epoch {
  perEpoch: number;
  cpuPerEpoch: number;
  loss: number;
}

function hessboundEpoch(set: SetFiles, modelPath: string, optimizer: 'adam' | 'sgd', threads: number): Epoch {
  const out = join(dir, 'trained.json');
  const args = [
    'train', '--model', modelPath, '--data-x', set.xPath, '--data-y', set.yPath, '--out', out,
    '--batch-size', String(BATCH), '--epochs', String(EPOCHS), '--check-every', '0', '--grad-tol', '0',
    '--optimizer', optimizer, '--lr', String(LR[optimizer]), '--weight-decay', String(WEIGHT_DECAY),
    ...(optimizer === 'sgd' ? ['--momentum', String(MOMENTUM)] : []), '--json', '--quiet', '--backend', 'native',
  ];
  const r = JSON.parse(run([...CLI.argv, ...args], { OPENBLAS_NUM_THREADS: String(threads), HESSBOUND_THREADS: String(threads) })) as {
    loss: number;
    steps: { epochs: number };
    minibatch: { seconds: number; cpuSeconds: number };
  };
  if (r.steps.epochs !== EPOCHS) throw new Error(`hessbound ran ${r.steps.epochs} epochs, not ${EPOCHS}`);
  return { perEpoch: r.minibatch.seconds / EPOCHS, cpuPerEpoch: r.minibatch.cpuSeconds / EPOCHS, loss: r.loss };
}

function torchEpoch(set: SetFiles, modelPath: string, optimizer: 'adam' | 'sgd', threads: number): Epoch & { info: string } {
  const args = [
    PEER, '--model', modelPath, '--x', set.xPath, '--y', set.yPath, '--batch-size', String(BATCH), '--epochs', String(EPOCHS + 1),
    '--optimizer', optimizer, '--lr', String(LR[optimizer]), '--momentum', String(MOMENTUM), '--weight-decay', String(WEIGHT_DECAY),
  ];
  const r = JSON.parse(run([PYTHON, ...args], { TORCH_THREADS: String(threads), OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: '1' })) as {
    epochSeconds: number[];
    epochCpuSeconds: number[];
    loss: number;
    torch: string;
    cpuCapability: string;
    threads: number;
  };
  return { perEpoch: median(r.epochSeconds.slice(1)), cpuPerEpoch: median(r.epochCpuSeconds.slice(1)), loss: r.loss, info: `PyTorch ${r.torch}, CPU capability ${r.cpuCapability}` };
}

const fmtMs = (s: number): string => (1000 * s).toFixed(s < 0.1 ? 1 : 0);
const range = (v: number[]): string => `${Math.min(...v).toFixed(2)}–${Math.max(...v).toFixed(2)}`;

async function main(): Promise<void> {
  const m = await machineInfo();
  const started = new Date();
  say('# Mini-batch training against PyTorch (bench/scale-training.ts)');
  say();
  say(`Run ${started.toISOString()}: \`node --import tsx bench/scale-training.ts ${process.argv.slice(2).join(' ')}\`.`);
  say();
  say(`- CPU: **${m.cpu}**, ${m.cores} cores; SIMD path of hessbound's training: ${simdPath()}.`);
  say(`- Load average at the start ${m.loadAverage.join(' / ')} (1/5/15 min): the machine is shared with other jobs, so absolute times vary; the ratios are measured in the same rounds.`);
  say(`- hessbound ${CLI.note}, native backend (${m.nativeLinalg ?? 'not loaded'}); batch size ${BATCH}, ${EPOCHS} epochs per process, weight decay ${WEIGHT_DECAY}, Adam lr ${LR.adam}, SGD lr ${LR.sgd} momentum ${MOMENTUM}; float64 on both sides.`);
  const sets = dataSets();
  for (const s of sets) say(`- ${s.name}: ${s.describe}.`);
  const rows: Row[] = [];
  for (const set of sets)
    for (const width of WIDTHS) {
      const model = randomModel({ inputs: set.data.d, hidden: [width], classes: set.data.classes, activation: 'tanh', seed: 0 });
      const modelPath = join(dir, `${set.name}-${width}.model.json`);
      writeFileSync(modelPath, JSON.stringify(modelToJson(model)));
      for (const optimizer of OPTIMIZERS)
        for (const threads of THREADS) {
          const row: Row = { set: set.name, width, parameters: parameterCount(model), optimizer, threads, hessbound: [], torch: [], ratios: [], hessboundCpu: [], torchCpu: [], cpuRatios: [], lossHessbound: Number.NaN, lossTorch: Number.NaN, torchInfo: '' };
          for (let round = 0; round < ROUNDS; round++) {
            // Alternate which side runs first, so a load change does not favour one.
            const first = round % 2 === 0;
            const t1 = first ? torchEpoch(set, modelPath, optimizer, threads) : null;
            const h = hessboundEpoch(set, modelPath, optimizer, threads);
            const t = t1 ?? torchEpoch(set, modelPath, optimizer, threads);
            row.hessbound.push(h.perEpoch);
            row.torch.push(t.perEpoch);
            row.ratios.push(t.perEpoch / h.perEpoch);
            row.hessboundCpu.push(h.cpuPerEpoch);
            row.torchCpu.push(t.cpuPerEpoch);
            row.cpuRatios.push(t.cpuPerEpoch / h.cpuPerEpoch);
            row.lossHessbound = h.loss;
            row.lossTorch = t.loss;
            row.torchInfo = t.info;
          }
          rows.push(row);
          console.error(`${set.name} w${width} ${optimizer} t${threads}: hessbound ${fmtMs(median(row.hessbound))} ms, PyTorch ${fmtMs(median(row.torch))} ms per epoch, ${median(row.ratios).toFixed(2)}x (processor time ${median(row.cpuRatios).toFixed(2)}x)`);
        }
    }
  say(`- Peer: ${rows[0]?.torchInfo ?? 'not run'} (its own SIMD dispatch; its matmuls go through the system OpenBLAS as this environment gives it).`);
  say();
  say(`Milliseconds per epoch (median of ${ROUNDS} rounds), wall and processor time, and PyTorch / hessbound (median of the per-round ratios, range). Loss: the full-batch cross-entropy after the ${EPOCHS} epochs (last round; the shuffles differ, so only similar).`);
  say();
  say('| data | width | P | optimizer | threads | hessbound wall ms | PyTorch wall ms | PyTorch / hessbound (wall) | range | hessbound CPU ms | PyTorch CPU ms | PyTorch / hessbound (CPU) | range | loss hessbound | loss PyTorch |');
  say('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows)
    say(
      `| ${r.set} | ${r.width} | ${r.parameters.toLocaleString('en-US')} | ${r.optimizer} | ${r.threads} | ${fmtMs(median(r.hessbound))} | ${fmtMs(median(r.torch))} | **${median(r.ratios).toFixed(2)}x** | ${range(r.ratios)} ` +
        `| ${fmtMs(median(r.hessboundCpu))} | ${fmtMs(median(r.torchCpu))} | **${median(r.cpuRatios).toFixed(2)}x** | ${range(r.cpuRatios)} | ${r.lossHessbound.toFixed(4)} | ${r.lossTorch.toFixed(4)} |`,
    );
  say();
  const all = rows.map((r) => median(r.ratios));
  const allCpu = rows.map((r) => median(r.cpuRatios));
  say(`Over all ${rows.length} configurations: PyTorch / hessbound from ${Math.min(...all).toFixed(2)}x to ${Math.max(...all).toFixed(2)}x in wall time (median ${median(all).toFixed(2)}x), from ${Math.min(...allCpu).toFixed(2)}x to ${Math.max(...allCpu).toFixed(2)}x in processor time (median ${median(allCpu).toFixed(2)}x). Finished ${new Date().toISOString()}, load average then ${(await machineInfo()).loadAverage.join(' / ')}.`);
  if (values.md) writeFileSync(values.md, `${lines.join('\n')}\n`);
}

await main();
