/** hessbound bound: the Wolkowicz–Styan bound from tr(H) and tr(H^2), without an eigensolve. */
import { TRACE_METHODS, wsBound, type WsBoundResult } from '../../bound.js';
import { costNotice, estimateCost } from '../../cost.js';
import { choice, int, num, parse, type ParsedValues } from '../args.js';
import { diagnosticsRows } from '../diagnostics-rows.js';
import { requireOneHiddenLayer, wsBoundGradient, type WsBoundGradients } from '../../analysis/bound-gradient.js';
import { fmt, keyValueTable } from '../format.js';
import { createProgressBar } from '../progress.js';
import { backendOf, loadData, loadModel, reductionOf, SOURCE_HELP, SOURCE_OPTIONS, featureScaling } from '../sources.js';
import type { Subcommand } from '../registry.js';
import { SPLIT_HELP, SPLIT_OPTIONS, tileSourceOf } from '../split-options.js';

const HELP = `hessbound bound — the closed-form Wolkowicz–Styan bound on lambda_max (no eigensolve)

Usage: hessbound bound (--model FILE | --hidden LIST) (--data FILE | --dataset NAME) [options]

${SOURCE_HELP}
  --trace-method M        auto|dual|primal (one hidden layer: closed form), dense|hutch++ (deeper nets);
                          default auto
  --probes P              Hutch++ Hessian-vector products (default 150)
  --seed-probes S         Hutch++ probe seed (default 0)
  --no-orthogonality      skip the data-orthogonality summary (O(N^2 d))
  --weight-decay WD       the decay the model was trained with: also report the regularised
                          objective's bound (the cross-entropy's + WD) and judge the point by
                          that objective (default: the decay the model file records, as
                          hessbound train saves it, else 0; a given WD overrides it)
  --gradient              also the exact gradient of the WS numbers w.r.t. every parameter (one hidden
                          layer; docs/hsr.md): JSON key gradient {upper, trace, traceOfSquare,
                          lowerOfMin, spread, ...}, arrays in the parameter order; the table shows norms
${SPLIT_HELP}
  --json                  print one JSON object instead of the table
  --quiet                 no progress bar`;

/** The JSON the CLI prints: analyze's keys that apply, then the bound's own. */
export function boundJson(r: WsBoundResult): Record<string, unknown> {
  return {
    backend: r.backend,
    parameters: r.parameters,
    samples: r.samples,
    loss: r.loss,
    gradNorm: r.gradNorm,
    trace: r.trace,
    traceOfSquare: r.traceOfSquare,
    bound: r.bound,
    frobenius: r.frobenius,
    closedForm: r.closedForm,
    estimated: r.estimated,
    method: r.method,
    decomposition: r.decomposition,
    orthogonality: r.orthogonality,
    interval: r.interval,
    seconds: r.seconds,
    hessian: r.hessian,
    objective: r.objective,
    diagnostics: r.diagnostics,
  };
}

function pair(t: { trace: number; traceOfSquare: number }): string {
  return `tr ${fmt(t.trace, 6)}, tr^2 ${fmt(t.traceOfSquare, 6)}`;
}

export function boundTable(r: WsBoundResult, features?: 'standardized' | 'raw'): string {
  const how = r.closedForm ? `closed form, ${r.method} evaluation` : r.estimated ? `Hutch++ estimate (${r.hutchpp?.products ?? '?'} products)` : 'dense Hessian';
  const rows: Array<[string, string]> = [
    ['backend', `${r.backend} (${how})`],
    ['parameters', fmt(r.parameters)],
    ['samples', `${fmt(r.samples)}${features ? ` (${features} features)` : ''}`],
    ['loss', fmt(r.loss)],
    ['gradient norm', fmt(r.gradNorm)],
    ['tr(H)', fmt(r.trace) + (r.interval ? `   ${Math.round(r.interval.confidence * 100)}% interval [${fmt(r.interval.trace[0], 6)}, ${fmt(r.interval.trace[1], 6)}]` : '')],
    ['tr(H^2)', fmt(r.traceOfSquare) + (r.interval ? `   interval [${fmt(r.interval.traceOfSquare[0], 6)}, ${fmt(r.interval.traceOfSquare[1], 6)}]` : '')],
    ['WS upper bound on lambda_max', fmt(r.bound.upper)],
    ['Frobenius bound sqrt(tr H^2)', fmt(r.frobenius)],
    ['WS lower bound of lambda_max', fmt(r.bound.lowerOfMax)],
    ['WS bounds of lambda_min', `[${fmt(r.bound.lowerOfMin)}, ${fmt(r.bound.upperOfMin)}]`],
    ['WS spread bound', fmt(r.bound.spread)],
  ];
  const d = r.decomposition;
  if (d) {
    rows.push(
      ['blocks: output (H22)', pair(d.blocks.output)],
      ['blocks: hidden (H11)', pair(d.blocks.hidden)],
      ['blocks: cross (2|H21|^2)', `tr^2 ${fmt(d.blocks.cross.traceOfSquare, 6)}`],
      ['Gauss-Newton part', pair(d.gaussNewton)],
      ['residual part', `${pair(d.residual)}   (sigma'' ${d.sigmaSecondVanishes ? '0 (piecewise-linear activation: sigma\'\' = 0, not computed)' : pair(d.residual.sigmaSecond)}; gradient cross ${pair(d.residual.gradientCross)})`],
      ['2<G,R>', fmt(d.mixed, 6)],
    );
  }
  const o = r.orthogonality;
  if (o.meanAbsCosine !== null) {
    rows.push(['data orthogonality', `mean |cos| ${fmt(o.meanAbsCosine, 4)}, max |cos| ${fmt(o.maxAbsCosine, 4)} over ${fmt(o.pairs)} pairs`]);
    if (o.orthogonalCounterfactual) rows.push(['orthogonal counterfactual', `${fmt(o.orthogonalCounterfactual.upper)}   (WS value if the inputs were orthogonal; not a bound on this net)`]);
  }
  rows.push(...diagnosticsRows(r.diagnostics, r.objective));
  rows.push(['seconds', Object.entries(r.seconds).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')]);
  return keyValueTable(rows);
}

async function run(argv: string[]): Promise<void> {
  const values: ParsedValues = parse(argv, {
    ...SOURCE_OPTIONS,
    'trace-method': { type: 'string' },
    probes: { type: 'string' },
    'seed-probes': { type: 'string' },
    'no-orthogonality': { type: 'boolean' },
    'weight-decay': { type: 'string' },
    gradient: { type: 'boolean' },
    json: { type: 'boolean' },
    quiet: { type: 'boolean' },
    ...SPLIT_OPTIONS,
  });
  const data = loadData(values);
  const model = loadModel(values, data);
  const bar = createProgressBar('bound', process.stderr, !values['quiet'] && (process.stderr.isTTY || !values['json']));
  const probes = int(values, 'probes', undefined, 6);
  const seed = int(values, 'seed-probes', undefined, 0);
  const backend = backendOf(values);
  const weightDecay = num(values, 'weight-decay');
  const method = choice(values, 'trace-method', TRACE_METHODS, 'auto');
  const tiles = await tileSourceOf(values, backend, (line) => process.stderr.write(`${line}\n`));
  if (!tiles && model.layers.length === 2 && method !== 'hutch++' && method !== 'dense') {
    // Before the wait: what the exact traces will cost here, when it is more than a few seconds.
    const estimate = await estimateCost(model, data, { method, reduction: reductionOf(values), ...(backend ? { backend } : {}), ...(probes !== undefined ? { probes } : {}) });
    if ((estimate.seconds ?? 0) > 10) process.stderr.write(costNotice(estimate, 'computing', 'bound'));
  }
  const result = await wsBound(model, data, {
    ...(weightDecay !== undefined ? { weightDecay } : {}),
    method,
    reduction: reductionOf(values),
    orthogonality: !values['no-orthogonality'],
    ...(probes !== undefined ? { probes } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(backend ? { backend } : {}),
    ...(tiles ? { tiles } : {}),
    onProgress: (f) => bar.update(f),
  });
  const gradient = values['gradient'] ? await boundGradient(model, data, result.method, values, (f) => bar.update(f)) : undefined;
  bar.done();
  if (values['json']) {
    process.stdout.write(`${JSON.stringify({ ...boundJson(result), ...(gradient ? { gradient } : {}) })}\n`);
  } else {
    process.stdout.write(`${boundTable(result, featureScaling(values))}\n${gradient ? `${gradientTable(gradient)}\n` : ''}`);
  }
}

/** --gradient: the WS numbers' exact gradients, trace values evaluated as the bound's were. */
async function boundGradient(
  model: ReturnType<typeof loadModel>,
  data: ReturnType<typeof loadData>,
  method: WsBoundResult['method'],
  values: ParsedValues,
  onProgress: (f: number) => void,
): Promise<WsBoundGradients> {
  requireOneHiddenLayer(model);
  const backend = backendOf(values);
  const r = await wsBoundGradient(model, data, {
    method: method === 'primal' ? 'primal' : 'dual',
    reduction: reductionOf(values),
    ...(backend ? { backend } : {}),
    onProgress,
  });
  return r.gradient;
}

function norm(v: readonly number[] | null): string {
  return v ? fmt(Math.sqrt(v.reduce((a, b) => a + b * b, 0))) : 'undefined (all eigenvalues equal)';
}

function gradientTable(g: WsBoundGradients): string {
  return keyValueTable([
    ['|grad WS upper bound|', norm(g.upper)],
    ['|grad tr(H)|', norm(g.trace)],
    ['|grad tr(H^2)|', norm(g.traceOfSquare)],
    ['|grad WS lower bound of lambda_min|', norm(g.lowerOfMin)],
    ['|grad WS spread bound|', norm(g.spread)],
  ]);
}

export const boundCommand: Subcommand = { name: 'bound', summary: 'the closed-form WS bound on lambda_max, no eigensolve', help: HELP, run };
