/**
 * The example page's script (bundled by `npm run build:example` into dist/main.js). Everything runs
 * on the page's thread: fine for these sizes; use a Worker for large problems.
 */
import { analyze, configureWasm, parseCsv, randomModel, standardize, type AnalyzeResult, type Dataset } from '../../src/browser.js';
import type { Activation } from '../../src/types.js';
import { setupOwnFiles } from './own-files.js';
import { spectrum, spectrumPlotSvg } from '../../src/browser.js';

// The page lives in examples/browser/ of the package; wasm/dist/ and data/ are served beside it.
configureWasm({ baseUrl: new URL('../../wasm/dist/', location.href) });

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $('status');
const button = $<HTMLButtonElement>('run');

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

/** The sorted spectrum as a scree plot, with lambda_max and the WS bound as horizontal lines. */
function chart(r: AnalyzeResult): string {
  const values = r.eigenvalues ?? [];
  const bound = r.bound?.upper ?? r.lambdaMax ?? 0;
  const W = 720, H = 280, left = 56, right = 150, top = 14, bottom = 30;
  const lo = Math.min(0, values[0] ?? 0);
  const hi = Math.max(bound, r.lambdaMax ?? 0) * 1.06;
  const x = (i: number) => left + ((W - left - right) * i) / Math.max(1, values.length - 1);
  const y = (v: number) => top + ((H - top - bottom) * (hi - v)) / (hi - lo || 1);
  const dots = values.map((v, i) => `<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2" fill="#0969da"/>`).join('');
  const line = (v: number, color: string, label: string, dash = '') =>
    `<line x1="${left}" x2="${W - right}" y1="${y(v)}" y2="${y(v)}" stroke="${color}" stroke-width="1.5" ${dash}/>` +
    `<text x="${W - right + 6}" y="${y(v) + 4}" style="fill:${color}">${label} ${v.toPrecision(4)}</text>`;
  const ticks = [lo, 0, hi / 2, hi].filter((v, i, a) => a.indexOf(v) === i)
    .map((v) => `<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${v.toPrecision(3)}</text>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="Hessian spectrum">
    <rect x="${left}" y="${top}" width="${W - left - right}" height="${H - top - bottom}" fill="#f6f8fa"/>
    <line x1="${left}" x2="${W - right}" y1="${y(0)}" y2="${y(0)}" stroke="#8c959f" stroke-width="0.5"/>
    ${ticks}${dots}
    ${line(bound, '#cf222e', 'WS bound', 'stroke-dasharray="6 4"')}
    ${line(r.lambdaMax ?? 0, '#1a7f37', 'λmax')}
    <text x="${left}" y="${H - 8}">eigenvalues of the exact Hessian, ascending (${values.length})</text>
  </svg>`;
}

async function run(): Promise<void> {
  button.disabled = true;
  const name = $<HTMLSelectElement>('dataset').value;
  const width = Number($<HTMLInputElement>('width').value);
  const activation = $<HTMLSelectElement>('activation').value as Activation;
  setStatus('running', `Computing the exact Hessian of ${name}, width ${width}, ${activation}…`);
  await new Promise((resolve) => setTimeout(resolve, 0)); // let the status paint before blocking
  try {
    const data = await loadDataset(name);
    const model = randomModel({ inputs: data.d, hidden: [width], classes: data.classes, activation, seed: 0 });
    const started = performance.now();
    const r = await analyze(model, data, { method: 'dense', backend: 'wasm' });
    const ms = performance.now() - started;
    $('shape').textContent = `${r.parameters} × ${r.samples}`;
    $('loss').textContent = fmt(r.loss);
    $('lambda-max').textContent = fmt(r.lambdaMax);
    $('ws-bound').textContent = fmt(r.bound?.upper);
    $('ratio').textContent = fmt(r.boundRatio);
    $('lambda-min').textContent = fmt(r.lambdaMin);
    $('backend').textContent = `${r.backend}, ${ms.toFixed(0)} ms`;
    $('results').hidden = false;
    $('chart').innerHTML = chart(r);
    // The eigenvalue density (the exact eigenvalues smoothed by a Gaussian kernel), as the CLI plots it.
    $('density').innerHTML = spectrumPlotSvg(await spectrum(model, data, { method: 'dense', backend: 'wasm' }));
    setStatus('done', `${name}, hidden width ${width}, ${activation}: done.`);
  } catch (e) {
    setStatus('error', (e as Error).message);
  } finally {
    button.disabled = false;
  }
}

$('controls').addEventListener('submit', (event) => {
  event.preventDefault();
  void run();
});
void run();
setupOwnFiles();
