/**
 * The example page's script (bundled by `npm run build:example` into dist/main.js, with the kernel's
 * Web Worker in dist/kernel-worker.js). The kernel runs in that worker, so the page stays responsive:
 * it shows progress and can cancel a computation.
 */
import { analyze, configureWasm, getBackend, HessboundError, parseCsv, randomModel, standardize, type AnalyzeResult, type Dataset } from '../../src/browser.js';
import type { Activation } from '../../src/types.js';
import { el, linearAxis, textEl } from '../../src/plot/svg.js';
import { setupOwnFiles } from './own-files.js';
import { spectrum, spectrumPlotSvg } from '../../src/browser.js';

// The page lives in examples/browser/ of the package; wasm/dist/ and data/ are served beside it.
// esbuild does not bundle workers by itself: build-example.mjs bundles hessbound/browser-worker too.
// In a cross-origin-isolated page (COOP/COEP headers, docs/wasm.md) the threaded build runs, else the
// single-threaded one; ?threads=N sets the kernel's threads (default: the cores, at most 8), and
// ?backend=wasm-threads insists on the threaded build (an error, with the fix, where it cannot run).
// The relaxed-SIMD build (fused multiply-adds) runs where the engine validates it, else SIMD128;
// ?wasmModule=simd128|relaxed forces one.
const query = new URLSearchParams(location.search);
const wasmModule = query.get('wasmModule');
const threads = Number(query.get('threads') ?? '0');
const backend = query.get('backend') === 'wasm-threads' ? 'wasm-threads' : 'wasm';
configureWasm({
  baseUrl: new URL('../../wasm/dist/', location.href),
  worker: new URL('./kernel-worker.js', import.meta.url),
  ...(Number.isInteger(threads) && threads >= 1 ? { threads } : {}),
  ...(wasmModule === 'simd128' || wasmModule === 'relaxed' ? { wasmModule } : {}),
});

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $('status');
const button = $<HTMLButtonElement>('run');
const cancel = $<HTMLButtonElement>('cancel');
const progress = $<HTMLProgressElement>('progress');
let running: AbortController | undefined;
let shownResult: AnalyzeResult | undefined;

const datasets = new Map<string, Promise<Dataset>>();
function loadDataset(name: string): Promise<Dataset> {
  let d = datasets.get(name);
  if (!d) {
    d = fetch(new URL(`../../data/${name}.csv`, location.href)).then(async (r) => {
      if (!r.ok) throw new Error(`cannot load ${name}.csv (HTTP ${r.status})`);
      return standardize(parseCsv(await r.text(), { name }));
    });
    datasets.set(name, d);
  }
  return d;
}

// 12 significant digits: the numbers shown are checked against Node's to 1e-9 relative.
const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '–' : v.toPrecision(12));

function setStatus(state: string, text: string): void {
  status.dataset.state = state;
  status.textContent = text;
}

/** The sorted spectrum as a scree plot, with lambda_max and the WS bound as horizontal lines, `W` px wide. */
function chart(r: AnalyzeResult, W: number): string {
  const values = r.eigenvalues ?? [];
  const bound = r.bound?.upper ?? r.lambdaMax ?? 0;
  const H = Math.round(Math.min(320, Math.max(200, W * 0.42)));
  const narrow = W < 520;
  const left = 60, right = narrow ? 16 : 130, top = narrow ? 40 : 14, bottom = 44;
  const yAxis = linearAxis(Math.min(0, values[0] ?? 0), Math.max(bound, r.lambdaMax ?? 0) * 1.04, Math.max(3, Math.round(H / 60)));
  const xAxis = linearAxis(1, Math.max(2, values.length), Math.max(2, Math.round((W - left - right) / 90)), true);
  const x = (i: number) => left + (W - left - right) * xAxis.position(i + 1);
  const y = (v: number) => top + (H - top - bottom) * (1 - yAxis.position(v));
  // Built with the plotting layer's markup (attribute records, escaped texts), as the CLI's plots are.
  const dots = values.map((v, i) => el('circle', { cx: x(i), cy: y(v), r: 2, fill: '#0969da' }));
  const line = (v: number, color: string, label: string, row: number, dash?: string) => [
    el('line', { x1: left, x2: W - right, y1: y(v), y2: y(v), stroke: color, 'stroke-width': 1.5, 'stroke-dasharray': dash }),
    narrow
      ? textEl('text', { x: left + row * 150, y: 14, style: `fill:${color}` }, `${label} ${v.toPrecision(4)}`)
      : textEl('text', { x: W - right + 6, y: y(v) + 4 + (row ? 12 : 0), style: `fill:${color}` }, `${label} ${v.toPrecision(4)}`),
  ];
  const yTicks = yAxis.ticks.flatMap((t) => [
    el('line', { x1: left - 4, x2: W - right, y1: y(t.value), y2: y(t.value), stroke: '#d0d7de', 'stroke-width': 0.5 }),
    textEl('text', { x: left - 7, y: y(t.value) + 4, 'text-anchor': 'end' }, t.text ?? ''),
  ]);
  const xTicks = xAxis.ticks.flatMap((t) => [
    el('line', { x1: x(t.value - 1), x2: x(t.value - 1), y1: H - bottom, y2: H - bottom + 4, stroke: '#57606a' }),
    textEl('text', { x: x(t.value - 1), y: H - bottom + 16, 'text-anchor': 'middle' }, t.text ?? ''),
  ]);
  return el('svg', { xmlns: 'http://www.w3.org/2000/svg', width: W, height: H, role: 'img', 'aria-label': 'Hessian spectrum' }, [
    el('rect', { x: left, y: top, width: W - left - right, height: H - top - bottom, fill: '#f6f8fa' }),
    ...yTicks,
    ...xTicks,
    el('line', { x1: left, x2: W - right, y1: y(0), y2: y(0), stroke: '#8c959f', 'stroke-width': 0.5 }),
    ...dots,
    ...line(bound, '#cf222e', 'WS bound', 0, '6 4'),
    ...line(r.lambdaMax ?? 0, '#1a7f37', 'λmax', 1),
    textEl('text', { x: left, y: H - 6 }, narrow ? `eigenvalue index (${values.length}, ascending)` : `eigenvalue index, ascending (${values.length} eigenvalues of the exact Hessian)`),
  ]).svg;
}

/** Draws the chart at the width its container has now (called again when the viewport changes). */
function drawChart(): void {
  if (shownResult) $('chart').innerHTML = chart(shownResult, Math.max(280, Math.floor($('chart').clientWidth)));
}
new ResizeObserver(drawChart).observe($('chart'));

async function run(): Promise<void> {
  running?.abort();
  const controller = new AbortController();
  running = controller;
  button.disabled = true;
  cancel.hidden = false;
  progress.hidden = false;
  progress.value = 0;
  const name = $<HTMLSelectElement>('dataset').value;
  const width = Number($<HTMLInputElement>('width').value);
  const activation = $<HTMLSelectElement>('activation').value as Activation;
  setStatus('running', `Computing the exact Hessian of ${name}, width ${width}, ${activation}…`);
  try {
    const data = await loadDataset(name);
    const model = randomModel({ inputs: data.d, hidden: [width], classes: data.classes, activation, seed: 0 });
    const started = performance.now();
    // The kernel runs in a Web Worker: progress arrives as it works, Cancel terminates it.
    const r = await analyze(model, data, { method: 'dense', backend, signal: controller.signal, onProgress: (f) => (progress.value = 0.8 * f) });
    const ms = performance.now() - started;
    $('shape').textContent = `${r.parameters} × ${r.samples}`;
    $('loss').textContent = fmt(r.loss);
    $('lambda-max').textContent = fmt(r.lambdaMax);
    $('ws-bound').textContent = fmt(r.bound?.upper);
    $('ratio').textContent = fmt(r.boundRatio);
    $('lambda-min').textContent = fmt(r.lambdaMin);
    // The same lambda_max matrix-free (Lanczos on Hessian-vector products: the threaded kernel's path).
    const lanczos = await analyze(model, data, { method: 'lanczos', which: 'largest', k: 1, tolerance: 1e-10, bound: false, backend, signal: controller.signal });
    $('lambda-lanczos').textContent = fmt(lanczos.lambdaMax);
    // Every digit, for tests comparing builds.
    $('lambda-lanczos').dataset.exact = String(lanczos.lambdaMax);
    $('lambda-max').dataset.exact = String(r.lambdaMax);
    const kernel = await getBackend(backend);
    const used = (await kernel.threadsUsed?.()) ?? 1;
    const simd = kernel.wasmSimd?.simd === 'relaxed' ? 'relaxed SIMD' : 'SIMD128';
    $('backend').textContent = `${r.backend} (${simd}), ${used} thread${used > 1 ? 's' : ''}, ${ms.toFixed(0)} ms`;
    $('results').hidden = false;
    shownResult = r;
    drawChart();
    // The eigenvalue density (the exact eigenvalues smoothed by a Gaussian kernel), as the CLI plots it.
    const density = await spectrum(model, data, { method: 'dense', backend, onProgress: (f) => (progress.value = 0.8 + 0.2 * f) });
    if (controller.signal.aborted) throw new HessboundError('ABORTED', 'the computation was cancelled');
    $('density').innerHTML = spectrumPlotSvg(density);
    setStatus('done', `${name}, hidden width ${width}, ${activation}: done.`);
  } catch (e) {
    if (running !== controller) return; // replaced by a newer run
    if (e instanceof HessboundError && e.code === 'ABORTED') setStatus('cancelled', `${name}, hidden width ${width}, ${activation}: cancelled.`);
    else setStatus('error', (e as Error).message);
  } finally {
    if (running === controller) {
      running = undefined;
      button.disabled = false;
      cancel.hidden = true;
      progress.hidden = true;
    }
  }
}

cancel.addEventListener('click', () => running?.abort());

$('controls').addEventListener('submit', (event) => {
  event.preventDefault();
  void run();
});
void run();
setupOwnFiles();
