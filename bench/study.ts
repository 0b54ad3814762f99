/**
 * The reproduction of issue 24: the sharpness-versus-generalization study on digits (1,797 x 64,
 * standardized; 70/30 stratified split) with 48 networks — hidden widths 8, 16 x depths 1, 2 x
 * seeds 0, 1, 2 x weight decay 0, 1e-4 x label noise 0, 0.1 — each trained (full batch, Adam then
 * L-BFGS, at most 3,000 steps) to training cross-entropy <= 0.05, every measure, tau and granulated
 * tau with bootstrap intervals. Not a speed benchmark: the wall time is reported for the record.
 *
 *   node --import tsx bench/study.ts [--md bench/study-results.md] [--json FILE] [--plot FILE]
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { getBackend, loadDataset, study, studyPlotSvg, studyReportMarkdown } from '../src/index.js';
import { machineInfo } from './lib/machine.js';

const { values } = parseArgs({ options: { md: { type: 'string' }, json: { type: 'string' }, plot: { type: 'string' } } });
const machine = await machineInfo();
const addon = (await getBackend('native')).addonInfo;
const started = performance.now();
const result = await study(loadDataset('digits'), {
  grid: { widths: [8, 16], depths: [1, 2], seeds: [0, 1, 2], weightDecays: [0, 1e-4], labelNoise: [0, 0.1] },
  targetLoss: 0.05,
  maxSteps: 3000,
  measures: 'all',
  backend: 'native',
  resamples: 500,
  onNetwork: (done, total, n) => process.stderr.write(`${done}/${total} ${JSON.stringify(n.axes)} ${n.stopReason} loss ${n.trainLoss.toFixed(4)} ${n.seconds.toFixed(1)} s\n`),
});
const seconds = (performance.now() - started) / 1000;
const context = [
  `Run by \`node --import tsx bench/study.ts\`: ${machine.cpu}, ${machine.cores} cores, load average ${machine.loadAverage.join(' / ')} at the start`,
  `(the machine is shared with other jobs); native backend (${machine.nativeLinalg ?? 'not loaded'}, SIMD path ${addon?.simd ?? 'unknown'}); ${result.networks.length} networks in ${seconds.toFixed(0)} s wall.`,
].join('\n');
const md = studyReportMarkdown(result, context);
if (values.md) writeFileSync(values.md, md);
if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 1)}\n`);
if (values.plot) writeFileSync(values.plot, studyPlotSvg(result));
process.stdout.write(md);
