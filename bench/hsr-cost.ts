/**
 * Cost of the closed-form WS-bound gradient (kernel command "wsGradient", docs/hsr.md section 4)
 * against the closed-form traces it differentiates (dual and primal evaluations), in one process:
 * tanh MLPs with one hidden layer at their seeded Glorot initialisation, standardized data, all
 * samples, native backend. Each time is the fastest of `--repeat` calls (default 3). The gradient
 * is timed in both forms (the adjoint of the dual and of the primal evaluation); "auto" is the form
 * the cost model picks, and the last columns compare its gradient with the traces in the same form
 * and with the faster of the two trace evaluations.
 *
 *   node --import tsx bench/hsr-cost.ts [--repeat 3] [--md FILE]
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { wsGradientOnSpec } from '../src/analysis/bound-gradient.js';
import { getBackend } from '../src/backend/select.js';
import { loadDataset } from '../src/node/datasets.js';
import { randomModel } from '../src/model.js';
import { toProblemSpec } from '../src/problem.js';

const { values } = parseArgs({ options: { repeat: { type: 'string', default: '3' }, md: { type: 'string' } } });
const REPEAT = Number(values.repeat);
const CASES: Array<{ dataset: string; width: number }> = [
  { dataset: 'iris', width: 16 },
  { dataset: 'iris', width: 256 },
  { dataset: 'wine', width: 16 },
  { dataset: 'wine', width: 64 },
  { dataset: 'breast_cancer', width: 16 },
  { dataset: 'breast_cancer', width: 64 },
  { dataset: 'digits', width: 16 },
];

const backend = await getBackend('native');
const lines = [
  `Closed-form WS-bound gradient vs the closed-form traces; tanh, one hidden layer, Glorot seed 0, native backend, fastest of ${REPEAT}.`,
  '',
  '| data | N | c | width | P | traces: dual | traces: primal | gradient: dual form | gradient: primal form | auto picks | auto gradient / its traces | auto gradient / faster traces |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: | ---: | ---: |',
];
const fmt = (s: number) => (s < 1 ? `${(s * 1000).toPrecision(3)} ms` : `${s.toPrecision(3)} s`);
for (const { dataset, width } of CASES) {
  const data = loadDataset(dataset);
  const model = randomModel({ inputs: data.d, hidden: [width], classes: data.classes, activation: 'tanh', seed: 0 });
  const spec = toProblemSpec(model, data, 'mean');
  let dual = Infinity;
  let primal = Infinity;
  let gradientDual = Infinity;
  let gradientPrimal = Infinity;
  let parameters = 0;
  let picked: 'dual' | 'primal' = 'dual';
  for (let r = 0; r < REPEAT; r++) {
    const a = await wsGradientOnSpec(backend, spec, { method: 'dual' });
    const b = await wsGradientOnSpec(backend, spec, { method: 'primal' });
    if (a.adjoint !== 'dual' || b.adjoint !== 'primal') throw new Error('the kernel did not run the asked adjoint form');
    dual = Math.min(dual, a.seconds.traces);
    primal = Math.min(primal, b.seconds.traces);
    gradientDual = Math.min(gradientDual, a.seconds.gradient);
    gradientPrimal = Math.min(gradientPrimal, b.seconds.gradient);
    parameters = a.parameters;
  }
  // The form auto picks (no timing from this call: the timed calls above are the same computations).
  picked = (await wsGradientOnSpec(backend, spec, { method: 'auto' })).adjoint;
  const gradient = picked === 'dual' ? gradientDual : gradientPrimal;
  const own = picked === 'dual' ? dual : primal;
  const line = `| ${dataset} | ${data.n} | ${data.classes} | ${width} | ${parameters} | ${fmt(dual)} | ${fmt(primal)} | ${fmt(gradientDual)} | ${fmt(gradientPrimal)} | ${picked} | ${(gradient / own).toFixed(1)}x | ${(gradient / Math.min(dual, primal)).toFixed(1)}x |`;
  lines.push(line);
  process.stderr.write(`${line}\n`);
}
const text = lines.join('\n');
process.stdout.write(`${text}\n`);
if (values.md) writeFileSync(values.md, `${text}\n`);
