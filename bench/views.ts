/**
 * The README's figures of the spectrum views (issue 12), from real runs:
 *   docs/images/views-density.svg    SLQ density of a trained digits network (and the dense one's numbers)
 *   docs/images/views-track.svg      lambda_max and the WS bound along training on iris
 *   docs/images/views-landscape.svg  the loss along the top two eigenvectors of that trained net
 *   docs/images/views-landscape-2d.svg  ... and on the plane of two filter-normalized random directions
 * and prints what the figures show, plus the layer blocks of a two-hidden-layer net (committed as
 * bench/views-output.md). Run: node --import tsx bench/views.ts > bench/views-output.md
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { analyze, landscape, landscapePlotSvg, loadDataset, randomModel, spectrum, spectrumPlotSvg, train, trackPlotSvg } from '../src/index.js';
import { blocksTable } from '../src/cli/blocks-table.js';
import { REPO_DIR } from './lib/peer.js';

const images = join(REPO_DIR, 'docs', 'images');
const out = (line = '') => process.stdout.write(`${line}\n`);
const g = (v: number | null | undefined, digits = 6) => (v === null || v === undefined ? '-' : Number(v.toPrecision(digits)).toString());

out('# Output of bench/views.ts');
out();
out('```');

// 1. Sharpness along training: iris, one hidden layer of 16 tanh units, seed 0, default training
// (weight decay 1e-3: the README's train --track example, which ends at a healthy point).
const iris = loadDataset('iris');
const start = randomModel({ inputs: iris.d, hidden: [16], classes: iris.classes, activation: 'tanh', seed: 0 });
const trained = await train(start, iris, { track: 10 });
const track = trained.track!;
writeFileSync(join(images, 'views-track.svg'), trackPlotSvg(track, { title: 'Sharpness along training: iris, 16 tanh units, seed 0' }));
out(`train iris h16 tanh seed 0: ${trained.steps.adam} Adam + ${trained.steps.lbfgs} L-BFGS steps, stop ${trained.stopReason}, loss ${g(trained.loss)}, grad norm ${g(trained.gradNorm, 3)}, flags ${trained.diagnostics.flags.join(' ') || 'none'}`);
out(`tracked every ${track.every} steps: ${track.points.length} points, ${track.points.filter((p) => !p.lanczosConverged).length} unconverged, bound from ${track.boundMethod} traces, ${g(track.seconds, 3)} s tracking`);
for (const p of track.points.filter((_, i, a) => i % Math.ceil(a.length / 10) === 0 || i === a.length - 1))
  out(`  step ${String(p.step).padStart(5)}  loss ${g(p.loss, 4).padEnd(10)} lambda_max ${g(p.lambdaMax).padEnd(12)} WS bound ${g(p.bound).padEnd(12)} ratio ${g(p.ratio, 4)}`);
out();

// 2. Density: the trained iris net, dense, and SLQ on a digits net large enough to need it.
const dense = await spectrum(trained.model, iris, { method: 'dense' });
out(`spectrum (dense) of the trained iris net: P = ${dense.parameters}, lambda_max ${g(dense.lambdaMax)}, lambda_min ${g(dense.lambdaMin)}, integral ${g(dense.integral, 10)}, mean ${g(dense.mean)} = tr(H)/P`);
const digits = loadDataset('digits');
const digitsStart = randomModel({ inputs: digits.d, hidden: [128], classes: digits.classes, activation: 'tanh', seed: 0 });
const digitsTrained = await train(digitsStart, digits, { maxSteps: 300 });
const slq = await spectrum(digitsTrained.model, digits, { method: 'slq', probes: 20, steps: 90 });
writeFileSync(join(images, 'views-density.svg'), spectrumPlotSvg(slq, { title: 'Hessian eigenvalue density: digits, 128 tanh units, after 300 training steps' }));
const exact = await analyze(digitsTrained.model, digits, { method: 'lanczos', which: 'largest', bound: false });
out(`spectrum (SLQ, 20 probes x 90 steps) of a digits net, P = ${slq.parameters}, loss ${g(slq.loss, 4)}: ${slq.slq!.products} Hessian-vector products, ${g(slq.seconds, 3)} s`);
out(`  integral ${g(slq.integral, 10)}; mean ${g(slq.mean)} +- ${g(slq.meanStdError, 2)} vs exact tr(H)/P ${g(slq.trace! / slq.parameters)} (closed form)`);
out(`  largest Ritz value ${g(slq.lambdaMax, 10)} (residual bound ${g(slq.slq!.lambdaMaxResidual, 2)}) vs Lanczos lambda_max ${g(exact.lambdaMax, 10)}; WS bound ${g(slq.bound!.upper)}`);
out();

// 3. Landscapes of the trained iris net.
const line = await landscape(trained.model, iris, { k: 2, radius: 3, points: 61 });
writeFileSync(join(images, 'views-landscape.svg'), landscapePlotSvg(line, { title: 'Loss along the top two Hessian eigenvectors: trained iris net' }));
for (const c of line.curves!) out(`landscape 1D ${c.label}: eigenvalue ${g(c.eigenvalue)}, loss from ${g(Math.min(...c.loss))} to ${g(Math.max(...c.loss))} over [-3, 3]`);
const plane = await landscape(trained.model, iris, { dimensions: 2, directions: 'random', radius: 1, points: 41, seed: 0 });
writeFileSync(join(images, 'views-landscape-2d.svg'), landscapePlotSvg(plane, { title: 'Loss on two filter-normalized random directions: trained iris net' }));
const flat = plane.surface!.flat();
out(`landscape 2D (random, filter-normalized): loss from ${g(Math.min(...flat))} to ${g(Math.max(...flat))} over [-1, 1]^2, ${g(plane.seconds, 3)} s`);
out();

// 4. Layer blocks of a two-hidden-layer net on wine.
const wine = loadDataset('wine');
const deep = await train(randomModel({ inputs: wine.d, hidden: [16, 16], classes: wine.classes, activation: 'tanh', seed: 0 }), wine);
const withBlocks = await analyze(deep.model, wine, { method: 'dense', blocks: true });
out(`analyze --blocks, wine, hidden 16,16 tanh, trained (stop ${deep.stopReason}, ${deep.steps.adam + deep.steps.lbfgs} steps, flags ${[...new Set([...deep.diagnostics.flags, ...withBlocks.diagnostics.flags])].join(' ') || 'none'}): lambda_max of H ${g(withBlocks.lambdaMax)}, WS bound ${g(withBlocks.bound?.upper)}`);
out(blocksTable(withBlocks.blocks!));
out('```');
