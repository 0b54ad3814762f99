/** hessbound landscape: the loss along top Hessian eigenvectors (1D) or on a plane (2D), with a plot. */
import { writeFileSync } from 'node:fs';
import { landscape, type LandscapeResult } from '../../analysis/landscape.js';
import { fail } from '../../errors.js';
import { landscapePlotSvg } from '../../plot/landscape-plot.js';
import { choice, int, num, parse, str } from '../args.js';
import { fmt, keyValueTable } from '../format.js';
import { createProgressBar } from '../progress.js';
import { checkPlotPath } from '../plot-path.js';
import type { Subcommand } from '../registry.js';
import { backendOf, loadData, loadModel, reductionOf, SOURCE_HELP, SOURCE_OPTIONS } from '../sources.js';

const HELP = `hessbound landscape — the loss around the parameters, along Hessian eigenvectors or random directions

Usage: hessbound landscape (--model FILE | --hidden LIST) (--data FILE | --dataset NAME) [options]

${SOURCE_HELP}
  --dimensions 1|2        a line (default) or a plane
  --directions eigen|random   top Hessian eigenvectors (unit; default), or filter-normalized random
                          directions (Li et al. 2018: each weight row scaled to the norm of that row
                          of the parameters; biases not moved)
  --k K                   1D with eigenvectors: one curve per top eigenvector (default 1)
  --points N              points per axis, odd (default 41 in 1D, 25 in 2D)
  --radius R              coordinates in [-R, R] (default 1)
  --seed-directions S     seed of random directions (default 0)
  --method dense|lanczos|auto   how to get the eigenvectors (default auto)
  --plot FILE.svg         write the SVG (line plot in 1D, filled contours in 2D)
  --json                  print one JSON object (alphas, betas, curves or surface, loss, ...)
  --quiet                 no progress bar`;

function table(r: LandscapeResult, plot: string | undefined): string {
  const rows: Array<[string, string]> = [
    ['landscape', `${r.dimensions}D along ${r.directions === 'eigen' ? `top eigenvectors (${r.eigenMethod})` : 'filter-normalized random directions'}`],
    ['backend', r.backend],
    ['parameters', fmt(r.parameters)],
    ['loss at the parameters', fmt(r.loss)],
    ['coordinates', `${r.alphas.length} points in [-${r.radius}, ${r.radius}]${r.betas ? ' per axis' : ''}`],
  ];
  for (const c of r.curves ?? []) {
    rows.push([c.label, `loss from ${fmt(Math.min(...c.loss), 6)} to ${fmt(Math.max(...c.loss), 6)}${c.eigenvalue !== null ? `; eigenvalue ${fmt(c.eigenvalue, 6)}` : ''}; slope g.d ${fmt(c.slope, 3)}`]);
    if (c.kinkChanges)
      rows.push(['  kinks', `no (sample, unit) pair crosses a kink within |a| <= ${fmt(c.smoothRadius, 3)} (grid); at the ends ${c.kinkChanges[0]} and ${c.kinkChanges.at(-1)} pairs have`]);
  }
  if (r.surface) {
    const all = r.surface.flat();
    rows.push(['loss on the plane', `${fmt(Math.min(...all), 6)} to ${fmt(Math.max(...all), 6)}`]);
    for (const a of r.axes ?? []) rows.push([a.label, a.eigenvalue !== null ? `eigenvalue ${fmt(a.eigenvalue, 6)}` : `norm ${fmt(a.norm, 6)}`]);
    if (r.kinkSurface) {
      const crossed = r.kinkSurface.flat().filter((n) => n > 0).length;
      rows.push(['kinks', `${crossed} of ${r.kinkSurface.flat().length} grid points lie where some (sample, unit) pair crossed its kink`]);
    }
  }
  rows.push(['seconds', r.seconds.toFixed(3)]);
  if (plot) rows.push(['plot', plot]);
  return keyValueTable(rows);
}

async function run(argv: string[]): Promise<void> {
  const values = parse(argv, {
    ...SOURCE_OPTIONS,
    dimensions: { type: 'string' },
    directions: { type: 'string' },
    k: { type: 'string' },
    points: { type: 'string' },
    radius: { type: 'string' },
    'seed-directions': { type: 'string' },
    method: { type: 'string' },
    plot: { type: 'string' },
    json: { type: 'boolean' },
    quiet: { type: 'boolean' },
  });
  // The plot's path is checked before the work, not after it.
  const plot = str(values, 'plot');
  if (plot !== undefined) checkPlotPath(plot);
  const data = loadData(values);
  const model = loadModel(values, data);
  const dimensions = Number(choice(values, 'dimensions', ['1', '2'] as const, '1')) as 1 | 2;
  const k = int(values, 'k', undefined, 1);
  const points = int(values, 'points', undefined, 3);
  const radius = num(values, 'radius');
  const seed = int(values, 'seed-directions');
  const backend = backendOf(values);
  const bar = createProgressBar('landscape', process.stderr, !values['quiet'] && (process.stderr.isTTY || !values['json']));
  const result = await landscape(model, data, {
    dimensions,
    directions: choice(values, 'directions', ['eigen', 'random'] as const, 'eigen'),
    method: choice(values, 'method', ['dense', 'lanczos', 'auto'] as const, 'auto'),
    reduction: reductionOf(values),
    ...(k !== undefined ? { k } : {}),
    ...(points !== undefined ? { points } : {}),
    ...(radius !== undefined ? { radius } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(backend ? { backend } : {}),
    onProgress: (f) => bar.update(f),
  });
  bar.done();
  if (plot) writeFileSync(plot, landscapePlotSvg(result));
  process.stdout.write(values['json'] ? `${JSON.stringify(result)}\n` : `${table(result, plot)}\n`);
}

export const landscapeCommand: Subcommand = { name: 'landscape', summary: 'loss along top eigenvectors or random directions (1D/2D), with an SVG plot', help: HELP, run };
