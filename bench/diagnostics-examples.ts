/**
 * The examples of docs/diagnostics.md, from real runs on both backends (issue 21: the examples there
 * must reproduce). Each example trains a seeded start with train() (Adam then L-BFGS, the default
 * gradTol) and analyses the result densely (k = 2, judged by the objective the model records); the
 * printed figures are the ones the doc shows. A number is printed to the digits on which native
 * and WebAssembly agree, and a point whose flags differ between the backends is said to.
 *
 * Run: node --import tsx bench/diagnostics-examples.ts > bench/diagnostics-examples-output.md
 */
import { analyze, randomModel, train, wsBound } from '../src/index.js';
import { loadDataset } from '../src/node/datasets.js';
import type { Activation, BackendName, Model } from '../src/types.js';

const out = (line = '') => process.stdout.write(`${line}\n`);
const BACKENDS: BackendName[] = ['native', 'wasm'];
const iris = loadDataset('iris');

function significant(v: number, p: number): string {
  return Math.abs(v) >= 1e5 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(p - 1) : v.toPrecision(p);
}

/** `digits` significant digits when every backend agrees on them; fewer when only those agree; else each backend's. */
function agreed(values: number[], digits = 4): string {
  for (let p = digits; p >= 2; p--) {
    const texts = values.map((v) => significant(v, p));
    if (texts.every((t) => t === texts[0])) return texts[0] as string;
  }
  return values.map((v, i) => `${BACKENDS[i]} ${significant(v, 2)}`).join(' / ');
}

/** Fixed decimals (values near 0 have no relative agreement: the scale derivative's threshold is -0.05). */
function fixed(values: number[], decimals: number): string {
  const texts = values.map((v) => (Math.abs(v) < 0.5 * 10 ** -decimals ? 0 : v).toFixed(decimals));
  return texts.every((t) => t === texts[0]) ? (texts[0] as string) : texts.map((t, i) => `${BACKENDS[i]} ${t}`).join(' / ');
}

interface Point {
  stop: string;
  lambdaMax: number;
  bound: number;
  norm: number;
  saturated: number;
  cells: number;
  ratio: number | null;
  scale: number | null;
  flags: string[];
}

async function trainedPoint(activation: Activation, width: number, seed: number, weightDecay: number, backend: BackendName): Promise<Point> {
  const start = randomModel({ inputs: iris.d, hidden: [width], classes: iris.classes, activation, seed });
  const t = await train(start, iris, { weightDecay, backend });
  const a = await analyze(t.model, iris, { method: 'dense', k: 2, backend });
  return {
    stop: t.stopReason,
    lambdaMax: a.lambdaMax as number,
    bound: a.bound?.upper as number,
    norm: a.diagnostics.parameterNorm,
    saturated: a.diagnostics.saturatedFraction,
    cells: a.diagnostics.collapsedCells,
    ratio: a.diagnostics.lambdaRatio,
    scale: a.diagnostics.scaleDerivative,
    flags: [...new Set([...t.diagnostics.flags, ...a.diagnostics.flags])],
  };
}

function describe(points: Point[]): string {
  const [first] = points as [Point];
  const flags = points.every((p) => p.flags.join(' ') === first.flags.join(' '))
    ? first.flags.length ? first.flags.join(' ') : 'none'
    : points.map((p, i) => `${BACKENDS[i]}: ${p.flags.join(' ') || 'none'}`).join('; ');
  const ratio = points.every((p) => p.ratio !== null) ? agreed(points.map((p) => p.ratio as number), 2) : '-';
  return [
    `stopped by ${[...new Set(points.map((p) => p.stop))].join('/')}`,
    `lambda_max ${agreed(points.map((p) => p.lambdaMax))}`,
    `WS bound ${agreed(points.map((p) => p.bound))}`,
    `|theta| ${agreed(points.map((p) => p.norm), 3)}`,
    `saturated ${fixed(points.map((p) => 100 * p.saturated), 1)}%`,
    `collapsed cells ${fixed(points.map((p) => p.cells), 0)}`,
    `lambda_2/lambda_1 ${ratio}`,
    `scale derivative ${fixed(points.map((p) => p.scale ?? NaN), 3)}`,
    `flags: ${flags}`,
  ].join(', ');
}

out('# Output of bench/diagnostics-examples.ts');
out();
out('Seeded iris (standardized) points, trained by `train()` with the default gradTol 1e-6 and analysed');
out('densely on the native and the WebAssembly backend; numbers to the digits both agree on.');
out();
out('```');
const examples: Array<[Activation, number, number]> = [
  ['tanh', 4, 0],
  ['sigmoid', 4, 0],
  ['tanh', 16, 1],
];
for (const [activation, width, seed] of examples) {
  for (const weightDecay of [0, 1e-3]) {
    const points: Point[] = [];
    for (const backend of BACKENDS) points.push(await trainedPoint(activation, width, seed, weightDecay, backend));
    out(`iris, ${activation}, width ${width}, seed ${seed}, weight decay ${weightDecay}:`);
    out(`  ${describe(points)}`);
  }
}

// Healthy points the earlier rules accused: GELU's negative-slope region, an indefinite Hessian.
const gelu = randomModel({ inputs: iris.d, hidden: [8], classes: iris.classes, activation: 'gelu', seed: 5 });
const [first, output] = gelu.layers as [Model['layers'][0], Model['layers'][0]];
const pinned: Model = { activation: 'gelu', layers: [{ ...first, weight: first.weight.map((w) => 1e-4 * w), bias: new Float64Array(8).fill(-1.5) }, output] };
const g = await analyze(pinned, iris, { method: 'dense', backend: 'native' });
out(`GELU (native), every pre-activation within 1e-3 of -1.5 (sigma' = -0.127): saturated ${100 * g.diagnostics.saturatedFraction}%, collapsed cells ${g.diagnostics.collapsedCells}, flags: ${g.diagnostics.flags.join(' ') || 'none'}`);
const init = randomModel({ inputs: iris.d, hidden: [16], classes: iris.classes, activation: 'tanh', seed: 0 });
const b = await wsBound(init, iris, { backend: 'native' });
const e = await analyze(init, iris, { method: 'dense', k: 2, backend: 'native' });
out(`iris, tanh, width 16, seed 0 at initialisation (native): tr(H)^2/tr(H^2) = ${significant(b.diagnostics.effectiveRank as number, 3)}, lambda_1 = ${significant(e.lambdaMax as number, 3)}, lambda_2/lambda_1 = ${significant(e.diagnostics.lambdaRatio as number, 2)}, lambda_min = ${significant(e.lambdaMin as number, 3)}; flags: bound ${b.diagnostics.flags.join(' ') || 'none'}, analyze ${e.diagnostics.flags.join(' ') || 'none'}`);
out('```');
