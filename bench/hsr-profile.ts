/**
 * Where HSR training's time goes (docs/hsr.md section 6): per objective evaluation, plain training
 * (cross-entropy + weight decay and its gradient) against HSR training (the same plus the WS
 * number's value and closed-form gradient), and the two parts of the HSR hook timed alone by the
 * kernel command "wsGradient" (the trace values; the gradient of the traces), in one process.
 *
 * Setting of bench/hsr.ts: tanh, one hidden layer of 16, seeded Glorot start, weight decay 1e-3,
 * 70% of each data set (seeded subsample, standardized features), native backend. Training runs
 * `--steps` Adam steps with no stopping rule (one evaluation per step); each figure is the fastest
 * of `--repeat` runs.
 *
 *   node --import tsx bench/hsr-profile.ts [--steps 100] [--repeat 3] [--md FILE]
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { wsGradientOnSpec } from '../src/analysis/bound-gradient.js';
import { getBackend } from '../src/backend/select.js';
import { subsample } from '../src/data.js';
import { loadDataset } from '../src/node/datasets.js';
import { randomModel } from '../src/model.js';
import { toProblemSpec } from '../src/problem.js';
import { train } from '../src/train.js';

const { values } = parseArgs({ options: { steps: { type: 'string', default: '100' }, repeat: { type: 'string', default: '3' }, md: { type: 'string' } } });
const STEPS = Number(values.steps);
const REPEAT = Number(values.repeat);
const backend = await getBackend('native');
const fmt = (s: number) => (s < 1e-3 ? `${(s * 1e6).toPrecision(3)} µs` : s < 1 ? `${(s * 1000).toPrecision(3)} ms` : `${s.toPrecision(3)} s`);

const lines = [
  `Per objective evaluation: plain vs HSR training (beta 0.01, target upper), and the HSR hook's parts timed alone; tanh, one hidden layer of 16, weight decay 1e-3, 70% subsample, native backend, ${STEPS} Adam steps, fastest of ${REPEAT}.`,
  '',
  '| data | N | P | form | plain eval | HSR eval | HSR / plain | trace values | trace gradient | rest of the HSR eval |',
  '| --- | ---: | ---: | :---: | ---: | ---: | ---: | ---: | ---: | ---: |',
];
for (const name of ['wine', 'breast_cancer']) {
  const full = loadDataset(name);
  const data = subsample(full, Math.round(0.7 * full.n), 0);
  const model = randomModel({ inputs: data.d, hidden: [16], classes: data.classes, activation: 'tanh', seed: 0 });
  const options = { backend: 'native' as const, weightDecay: 1e-3, gradTol: 0, adamSteps: STEPS, maxSteps: STEPS };
  let plain = Infinity;
  let hsr = Infinity;
  let traces = Infinity;
  let gradient = Infinity;
  let form = '';
  let parameters = 0;
  for (let r = 0; r < REPEAT; r++) {
    let t = performance.now();
    const a = await train(model, data, options);
    plain = Math.min(plain, (performance.now() - t) / 1000 / a.steps.evaluations);
    t = performance.now();
    const b = await train(model, data, { ...options, hsr: { beta: 0.01 } });
    hsr = Math.min(hsr, (performance.now() - t) / 1000 / b.steps.evaluations);
    // The hook's parts at the start point (the kernel's own timers, no call overhead).
    const g = await wsGradientOnSpec(backend, toProblemSpec(model, data, 'mean'), {});
    traces = Math.min(traces, g.seconds.traces);
    gradient = Math.min(gradient, g.seconds.gradient);
    form = g.adjoint;
    parameters = g.parameters;
  }
  const line = `| ${name} | ${data.n} | ${parameters} | ${form} | ${fmt(plain)} | ${fmt(hsr)} | ${(hsr / plain).toFixed(0)}x | ${fmt(traces)} (${((100 * traces) / hsr).toFixed(0)}%) | ${fmt(gradient)} (${((100 * gradient) / hsr).toFixed(0)}%) | ${fmt(Math.max(0, hsr - traces - gradient))} |`;
  lines.push(line);
  process.stderr.write(`${line}\n`);
}
const text = lines.join('\n');
process.stdout.write(`${text}\n`);
if (values.md) writeFileSync(values.md, `${text}\n`);
