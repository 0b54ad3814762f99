/** hessbound spectrum: the Hessian's eigenvalue density (dense or stochastic Lanczos quadrature), with a plot. */
import { writeFileSync } from 'node:fs';
import { spectrum, type SpectrumResult } from '../../analysis/spectrum.js';
import { fail } from '../../errors.js';
import { spectrumPlotSvg } from '../../plot/spectrum-plot.js';
import { choice, int, num, parse, str } from '../args.js';
import { fmt, keyValueTable } from '../format.js';
import { createProgressBar } from '../progress.js';
import { checkPlotPath } from '../plot-path.js';
import type { Subcommand } from '../registry.js';
import { backendOf, loadData, loadModel, reductionOf, SOURCE_HELP, SOURCE_OPTIONS } from '../sources.js';

const HELP = `hessbound spectrum — eigenvalue spectral density of the Hessian, smoothed by a Gaussian kernel

Usage: hessbound spectrum (--model FILE | --hidden LIST) (--data FILE | --dataset NAME) [options]

${SOURCE_HELP}
  --method dense|slq|auto  exact eigenvalues, or stochastic Lanczos quadrature (default auto: dense
                          when the Hessian fits comfortably, as in analyze)
  --probes K              SLQ: Rademacher probes (default 10)
  --steps M               SLQ: Lanczos steps per probe, full reorthogonalization (default 90)
  --seed-probes S         SLQ: seed of the probes (default 0)
  --grid G                grid points (default 1000; spacing must not exceed the kernel width)
  --kernel-width W        Gaussian kernel standard deviation (default 1% of lambda_max - lambda_min)
  --no-bound              SLQ: skip the traces and the WS bound
  --plot FILE.svg         write the SVG plot (density on a log axis, lambda_max, lambda_min, WS intervals)
  --json                  print one JSON object: method, parameters, settings, grid, density, kernelWidth,
                          integral, mean, lambdaMax, lambdaMin, bound, ... (SLQ: slq.quadratures, errors)
  --quiet                 no progress bar`;

export function spectrumJson(r: SpectrumResult): Record<string, unknown> {
  return { ...r };
}

function table(r: SpectrumResult): string {
  const rows: Array<[string, string]> = [
    ['method', r.method === 'dense' ? 'dense (exact eigenvalues)' : `stochastic Lanczos quadrature, ${r.slq?.probes} probes x ${r.slq?.steps} steps (${r.slq?.products} Hessian-vector products)`],
    ['backend', r.backend],
    ['parameters', fmt(r.parameters)],
    ['samples', fmt(r.samples)],
    ['loss', fmt(r.loss)],
    ['kernel width', fmt(r.kernelWidth, 4)],
    ['grid', `${r.grid.length} points over [${fmt(r.grid[0], 5)}, ${fmt(r.grid.at(-1), 5)}]`],
    ['integral of density', fmt(r.integral, 10)],
    ['mean (tr(H)/P)', r.meanStdError === null ? fmt(r.mean) : `${fmt(r.mean)} +- ${fmt(r.meanStdError, 3)} (standard error across probes)`],
    ['lambda_max', `${fmt(r.lambdaMax)}${r.slq ? `   (largest Ritz value; residual bound ${fmt(r.slq.lambdaMaxResidual, 3)})` : '   (exact)'}`],
    ['lambda_min', `${fmt(r.lambdaMin)}${r.slq ? `   (smallest Ritz value; residual bound ${fmt(r.slq.lambdaMinResidual, 3)})` : '   (exact)'}`],
  ];
  if (r.trace !== null) rows.push(['tr(H)', `${fmt(r.trace)}   (${r.traceSource})`], ['exact tr(H)/P', fmt(r.trace / r.parameters)]);
  if (r.bound) rows.push(['WS upper bound', fmt(r.bound.upper)], ['WS interval of lambda_max', `[${fmt(r.bound.lowerOfMax)}, ${fmt(r.bound.upper)}]`]);
  rows.push(['seconds', r.seconds.toFixed(3)]);
  return keyValueTable(rows);
}

async function run(argv: string[]): Promise<void> {
  const values = parse(argv, {
    ...SOURCE_OPTIONS,
    method: { type: 'string' },
    probes: { type: 'string' },
    steps: { type: 'string' },
    'seed-probes': { type: 'string' },
    grid: { type: 'string' },
    'kernel-width': { type: 'string' },
    'no-bound': { type: 'boolean' },
    plot: { type: 'string' },
    json: { type: 'boolean' },
    quiet: { type: 'boolean' },
  });
  // The plot's path is checked before the work, not after it.
  const plot = str(values, 'plot');
  if (plot !== undefined) checkPlotPath(plot);
  const data = loadData(values);
  const model = loadModel(values, data);
  const kernelWidth = num(values, 'kernel-width');
  const grid = int(values, 'grid', undefined, 2);
  const probes = int(values, 'probes', undefined, 1);
  const steps = int(values, 'steps', undefined, 1);
  const seed = int(values, 'seed-probes');
  const backend = backendOf(values);
  const bar = createProgressBar('spectrum', process.stderr, !values['quiet'] && (process.stderr.isTTY || !values['json']));
  const result = await spectrum(model, data, {
    method: choice(values, 'method', ['dense', 'slq', 'auto'] as const, 'auto'),
    reduction: reductionOf(values),
    ...(kernelWidth !== undefined ? { kernelWidth } : {}),
    ...(grid !== undefined ? { grid } : {}),
    ...(probes !== undefined ? { probes } : {}),
    ...(steps !== undefined ? { steps } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(backend ? { backend } : {}),
    bound: !values['no-bound'],
    onProgress: (f) => bar.update(f),
  });
  bar.done();
  if (plot) writeFileSync(plot, spectrumPlotSvg(result));
  process.stdout.write(values['json'] ? `${JSON.stringify(spectrumJson(result))}\n` : `${table(result)}\n${plot ? `plot written to ${plot}\n` : ''}`);
}

export const spectrumCommand: Subcommand = { name: 'spectrum', summary: 'eigenvalue density of the Hessian (dense or SLQ), with an SVG plot', help: HELP, run };
