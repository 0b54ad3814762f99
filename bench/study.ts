/**
 * The reproduction of issue 24: the sharpness-versus-generalization study on digits (1,797 x 64,
 * standardized; 70/30 stratified split) over a full factorial of seven axes, 128 networks:
 * hidden width 16, 32 x learning rate 0.003, 0.01 x batch size full / 64 (mini-batch Adam) x
 * activation tanh, relu x training-set size 629 (half the split), 1,258 (all) x label noise 0, 0.1
 * x seed 0, 1 (one hidden layer). Every network is trained to training cross-entropy <= 0.05 (full
 * batch: Adam then L-BFGS, at most 5,000 steps; mini-batch: at most 400 epochs), every measure is
 * taken, with the adaptive measures over a rho grid, then tau and granulated tau with bootstrap
 * intervals. Networks run two at a time on the sweep's worker threads (2 cores). Not a speed
 * benchmark: the wall time and the machine's load are reported for the record.
 *
 *   OPENBLAS_NUM_THREADS=1 node --import tsx bench/study.ts [--md bench/study-results.md] [--json FILE] [--plot FILE]
 *
 * (one BLAS thread per network thread: the addon loads before the pool, so the variable must be set at the start)
 */
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';

import { getBackend, study, studyPlotSvg, studyReportMarkdown } from '../src/index.js';
import { loadDataById } from '../src/node/dataset-ids.js';
import { createWorkerPool } from '../src/node/sweep-pool.js';
import { machineInfo } from './lib/machine.js';

const { values } = parseArgs({ options: { md: { type: 'string' }, json: { type: 'string' }, plot: { type: 'string' } } });
const machine = await machineInfo();
const addon = (await getBackend('native')).addonInfo;
const pool = createWorkerPool({ workers: 2, backend: 'native' });
const started = performance.now();
const result = await study('digits', {
  grid: {
    widths: [16, 32], lrs: [0.003, 0.01], batchSizes: [0, 64], activations: ['tanh', 'relu'], trainSizes: [629, 1258], labelNoise: [0, 0.1], seeds: [0, 1], weightDecays: [0],
  },
  targetLoss: 0.05,
  maxSteps: 5000,
  epochs: 400,
  measures: 'all',
  sharpnessRhos: [0.01, 0.05, 0.1],
  backend: 'native',
  resamples: 500,
  executor: pool,
  loadData: loadDataById,
  onNetwork: (done, total, n) => process.stderr.write(`${done}/${total} ${JSON.stringify(n.axes)} ${n.stopReason} loss ${n.trainLoss?.toFixed(4)} ${n.seconds.toFixed(1)} s\n`),
}).finally(() => pool.close());
const seconds = (performance.now() - started) / 1000;
const loadAtEnd = loadavg().map((v) => Number(v.toFixed(2)));
const context = [
  `Run by \`OPENBLAS_NUM_THREADS=1 node --import tsx bench/study.ts\`: ${machine.cpu}, ${machine.cores} cores, load average ${machine.loadAverage.join(' / ')} at the start and ${loadAtEnd.join(' / ')} at the end`,
  `(the machine is shared with other jobs); native backend (${machine.nativeLinalg ?? 'not loaded'}, SIMD path ${addon?.simd ?? 'unknown'}), two networks at a time on worker threads (${pool.blasThreads} BLAS thread each);`,
  `${result.networks.length} networks in ${seconds.toFixed(0)} s wall.`,
].join('\n');
// The hand-written discussion lives beside the output, so a rerun does not erase it.
const files = [values.json ? `Full result (every network, per-axis τ): [\`${basename(values.json)}\`](${basename(values.json)})` : '', values.plot ? `chart: [\`${values.plot}\`](../${values.plot})` : ''].filter(Boolean).join('; ');
const md = `${studyReportMarkdown(result, context)}${files ? `\n${files}.\n` : ''}\nThe choices made for this run and the comparison with the literature: [\`study-discussion.md\`](study-discussion.md).\n`;
if (values.md) writeFileSync(values.md, md);
if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 1)}\n`);
if (values.plot) writeFileSync(values.plot, studyPlotSvg(result));
process.stdout.write(md);
