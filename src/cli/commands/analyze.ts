/** hessbound analyze: the exact Hessian spectrum, traces and WS bounds of one model on one data set. */
import { analyze, type AnalyzeResult } from '../../analyze.js';
import { costNotice, formatDuration } from '../../cost.js';
import { fail } from '../../errors.js';
import { choice, int, num, parse, type ParsedValues } from '../args.js';
import { fmt, keyValueTable } from '../format.js';
import { createProgressBar } from '../progress.js';
import { backendOf, loadData, loadModel, reductionOf, SOURCE_HELP, SOURCE_OPTIONS, featureScaling } from '../sources.js';
import type { Subcommand } from '../registry.js';
import { SPLIT_HELP, SPLIT_OPTIONS, tileSourceOf } from '../split-options.js';
import { diagnosticsRows } from '../diagnostics-rows.js';
import { blocksTable } from '../blocks-table.js';

const HELP = `hessbound analyze — exact Hessian spectrum, traces and Wolkowicz–Styan bounds

Usage: hessbound analyze (--model FILE | --hidden LIST) (--data FILE | --dataset NAME) [options]

${SOURCE_HELP}
  --method dense|lanczos|auto   dense eigensolve or matrix-free Lanczos (default auto: dense when it fits comfortably)
  --k K                   extreme eigenvalues to report at each end (default 5)
  --which both|largest|smallest   Lanczos: which ends to converge (default both; largest is fastest
                          when only lambda_max is needed)
  --tolerance T           Lanczos relative residual (default 1e-10)
  --max-iterations M      Lanczos Krylov dimension cap (default 300)
  --no-bound              Lanczos: skip the closed-form traces and WS bound (one hidden layer)
  --bound                 Lanczos: compute the exact bound however long it takes. Default: estimate
                          its cost first (printed when it is over 10 s) and skip it when it would take
                          more than --bound-budget seconds (default 60; the output says so)
  --bound-budget S        the longest the exact bound may take by default, in estimated seconds
  --weight-decay WD       the decay the model was trained with: also report the regularised
                          objective's lambda_max and bound (the cross-entropy's + WD) and judge the point by
                          that objective (default: the decay the model file records, as
                          hessbound train saves it, else 0; a given WD overrides it)
${SPLIT_HELP}
  --json                  print one JSON object instead of the table
  --quiet                 no progress bar
  --blocks                also each layer's diagonal Hessian block (W and b): size, lambda_max,
                          lambda_min, tr, tr(H^2), WS bound (JSON: blocks: [{layer, parameters, ...}])`;

/** The JSON the CLI prints: the result in its own key order (contract keys first), without the full spectrum. */
export function analyzeJson(r: AnalyzeResult): Record<string, unknown> {
  const { eigenvalues: _spectrum, ...rest } = r;
  if (rest.blocks) rest.blocks = rest.blocks.map(({ eigenvalues: _e, ...b }) => b);
  return rest;
}

export function analyzeTable(r: AnalyzeResult, title: string): string {
  const rows: Array<[string, string]> = [
    ['model / data', title],
    ['backend', `${r.backend} (${r.method}${r.lanczos ? `, ${r.lanczos.products} Hessian-vector products, ${r.lanczos.converged ? 'converged' : 'NOT converged'}` : ''})`],
    ['parameters', fmt(r.parameters)],
    ['samples', fmt(r.samples)],
    ['loss', fmt(r.loss)],
    ['gradient norm', fmt(r.gradNorm)],
    ['tr(H)', r.trace === null ? (r.traceSource === 'skipped' ? `— (exact bound skipped: estimated ${formatDuration(r.boundEstimate?.seconds ?? Number.NaN)}; --bound computes it)` : '— (Lanczos computes no traces; hessbound bound gives them)') : `${fmt(r.trace)}${r.traceSource === 'closed-form' ? '   (closed form)' : ''}`],
    ['tr(H^2)', fmt(r.traceOfSquare)],
    r.lambdaMaxLowerBound !== null
      ? ['lambda_max', `NOT CONVERGED: >= ${fmt(r.lambdaMaxLowerBound)} (largest Ritz value, a lower bound on lambda_max; residual ${fmt(r.lanczos?.topResiduals[0], 2)})`]
      : ['lambda_max (exact)', fmt(r.lambdaMax)],
    r.lambdaMinUpperBound !== null
      ? ['lambda_min', `NOT CONVERGED: <= ${fmt(r.lambdaMinUpperBound)} (smallest Ritz value, an upper bound on lambda_min; residual ${fmt(r.lanczos?.bottomResiduals[0], 2)})`]
      : ['lambda_min (exact)', fmt(r.lambdaMin)],
  ];
  if (r.bound) {
    rows.push(
      ['WS upper bound', `${fmt(r.bound.upper)}   (bound / lambda_max = ${fmt(r.boundRatio, 4)})`],
      ['WS lower bound of max', fmt(r.bound.lowerOfMax)],
      ['WS bounds of min', `[${fmt(r.bound.lowerOfMin)}, ${fmt(r.bound.upperOfMin)}]`],
      ['WS spread bound', fmt(r.bound.spread)],
    );
  }
  const withResiduals = (values: number[], residuals: number[] | undefined) =>
    values.map((v, i) => `${fmt(v, 6)} (residual ${fmt(residuals?.[i], 2)})`).join(', ');
  rows.push(
    r.lambdaMaxLowerBound !== null
      ? ['top Ritz values', `${withResiduals(r.topEigenvalues, r.lanczos?.topResiduals)}   (not converged)`]
      : ['top eigenvalues', r.topEigenvalues.map((v) => fmt(v, 6)).join(', ') || '—'],
    r.lambdaMinUpperBound !== null
      ? ['bottom Ritz values', `${withResiduals(r.bottomEigenvalues, r.lanczos?.bottomResiduals)}   (not converged)`]
      : ['bottom eigenvalues', r.bottomEigenvalues.map((v) => fmt(v, 6)).join(', ') || '—'],
    ...diagnosticsRows(r.diagnostics, r.objective),
    ['seconds', Object.entries(r.seconds).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')],
  );
  return keyValueTable(rows) + (r.blocks ? `\n\n${blocksTable(r.blocks)}` : '');
}

function describeSource(values: ParsedValues): string {
  const model = values['model'] ?? `random ${String(values['activation'] ?? 'tanh')} MLP hidden ${String(values['hidden'])} seed ${String(values['seed'] ?? 0)}`;
  const data = values['data'] ?? (values['data-x'] !== undefined ? `${String(values['data-x'])} + ${String(values['data-y'])}` : `dataset ${String(values['dataset'])}`);
  return `${String(model)} on ${String(data)} (${featureScaling(values)} features)`;
}

/** Exit status after printing a result whose eigenvalues did not converge (documented in README). */
export const EXIT_NOT_CONVERGED = 3;

async function run(argv: string[]): Promise<number> {
  const values = parse(argv, {
    ...SOURCE_OPTIONS,
    method: { type: 'string' },
    k: { type: 'string' },
    which: { type: 'string' },
    tolerance: { type: 'string' },
    'max-iterations': { type: 'string' },
    'no-bound': { type: 'boolean' },
    bound: { type: 'boolean' },
    'bound-budget': { type: 'string' },
    'weight-decay': { type: 'string' },
    json: { type: 'boolean' },
    quiet: { type: 'boolean' },
    blocks: { type: 'boolean' },
    ...SPLIT_OPTIONS,
  });
  const data = loadData(values);
  const model = loadModel(values, data);
  const bar = createProgressBar('analyze', process.stderr, !values['quiet'] && (process.stderr.isTTY || !values['json']));
  const tolerance = num(values, 'tolerance');
  const maxIterations = int(values, 'max-iterations', undefined, 1);
  const backend = backendOf(values);
  const weightDecay = num(values, 'weight-decay');
  if (values['bound'] && values['no-bound']) fail('BAD_OPTION', '--bound and --no-bound contradict each other', 'give one of them');
  const budget = num(values, 'bound-budget');
  const tiles = await tileSourceOf(values, backend, (line) => process.stderr.write(`${line}\n`));
  if (tiles && values['no-bound']) fail('BAD_OPTION', '--queue splits the bound, and --no-bound skips it', 'give one of them');
  const result = await analyze(model, data, {
    ...(weightDecay !== undefined ? { weightDecay } : {}),
    method: choice(values, 'method', ['dense', 'lanczos', 'auto'] as const, 'auto'),
    k: int(values, 'k', 5, 1) as number,
    which: choice(values, 'which', ['both', 'largest', 'smallest'] as const, 'both'),
    reduction: reductionOf(values),
    ...(tolerance !== undefined ? { tolerance } : {}),
    ...(maxIterations !== undefined ? { maxIterations } : {}),
    ...(backend ? { backend } : {}),
    bound: values['no-bound'] ? false : values['bound'] ? true : 'auto',
    ...(budget !== undefined ? { boundBudgetSeconds: budget } : {}),
    onBoundCost: (estimate, decision) => {
      // Before the wait: the exact bound's cost when it matters, and how to avoid it.
      if (decision === 'skip' || (estimate.seconds ?? 0) > 10) process.stderr.write(costNotice(estimate, decision === 'skip' ? 'skipped' : 'computing', 'analyze'));
    },
    onProgress: (f) => bar.update(f),
    ...(values['blocks'] ? { blocks: true } : {}),
    ...(tiles ? { tiles } : {}),
  });
  bar.done();
  process.stdout.write(values['json'] ? `${JSON.stringify(analyzeJson(result))}\n` : `${analyzeTable(result, describeSource(values))}\n`);
  if (!result.converged) {
    process.stderr.write(
      `hessbound: Lanczos did not converge in ${result.lanczos?.iterations ?? '?'} iterations: the values shown are Ritz values, not eigenvalues (exit status ${EXIT_NOT_CONVERGED})\n` +
        '  hint: raise --max-iterations or loosen --tolerance, or use --which largest when only lambda_max is needed\n',
    );
    return EXIT_NOT_CONVERGED;
  }
  return 0;
}

export const analyzeCommand: Subcommand = { name: 'analyze', summary: 'exact Hessian spectrum, traces and WS bounds', help: HELP, run };
