/**
 * The example page's drop zone: analyze your own model (.safetensors, .onnx or hessbound .json) on
 * your own data (.npz, .csv with the label last, or .json), parsed in the page by parseModel /
 * parseData and analysed by the WebAssembly kernel. CSV features are standardized; .npz and .json
 * data are analysed as stored (unlike the CLI, which standardizes every format unless
 * --no-standardize), so that a dropped fixture reproduces its reference values.
 */
import { analyze, parseData, parseModel, standardize, type Dataset, type Model } from '../../src/browser.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '–' : v.toPrecision(12));

const MODEL_EXTENSIONS = /\.(safetensors|onnx)$/i;
const DATA_EXTENSIONS = /\.(npz|csv|tsv)$/i;

let modelFile: File | null = null;
let dataFile: File | null = null;

function setStatus(state: string, text: string): void {
  const status = $('own-status');
  status.dataset.state = state;
  status.textContent = text;
}

/** A .json file is a model when it has "layers", else data. */
async function isModelJson(file: File): Promise<boolean> {
  try {
    return Object.prototype.hasOwnProperty.call(JSON.parse(await file.text()) as object, 'layers');
  } catch {
    return false;
  }
}

async function take(files: readonly File[]): Promise<void> {
  for (const file of files) {
    if (MODEL_EXTENSIONS.test(file.name) || (/\.json$/i.test(file.name) && (await isModelJson(file)))) modelFile = file;
    else if (DATA_EXTENSIONS.test(file.name) || /\.json$/i.test(file.name)) dataFile = file;
    else {
      setStatus('error', `${file.name}: not a model (.safetensors, .onnx, .json) or data (.npz, .csv, .json) file`);
      return;
    }
  }
  $('own-files-chosen').textContent = `model: ${modelFile?.name ?? '–'}, data: ${dataFile?.name ?? '–'}`;
  if (modelFile && dataFile) await analyzeOwn(modelFile, dataFile);
  else setStatus('waiting', `now drop the ${modelFile ? 'data' : 'model'} file`);
}

async function analyzeOwn(modelSource: File, dataSource: File): Promise<void> {
  setStatus('running', `Analyzing ${modelSource.name} on ${dataSource.name}…`);
  await new Promise((resolve) => setTimeout(resolve, 0));
  try {
    const activation = $<HTMLSelectElement>('own-activation').value;
    const model: Model = parseModel(new Uint8Array(await modelSource.arrayBuffer()), { fileName: modelSource.name, ...(activation ? { activation } : {}) });
    const raw: Dataset = parseData(new Uint8Array(await dataSource.arrayBuffer()), { fileName: dataSource.name });
    const data = /\.(csv|tsv)$/i.test(dataSource.name) ? standardize(raw) : raw;
    const r = await analyze(model, data, { method: 'dense', backend: 'wasm' });
    $('own-shape').textContent = `${r.parameters} × ${r.samples}, ${model.activation}`;
    $('own-loss').textContent = fmt(r.loss);
    $('own-lambda-max').textContent = fmt(r.lambdaMax);
    $('own-ws-bound').textContent = fmt(r.bound?.upper);
    $('own-lambda-min').textContent = fmt(r.lambdaMin);
    $('own-results').hidden = false;
    setStatus('done', `${modelSource.name} on ${dataSource.name}: done.`);
  } catch (e) {
    $('own-results').hidden = true;
    setStatus('error', (e as Error).message);
  }
}

export function setupOwnFiles(): void {
  const zone = $('drop-zone');
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('over');
    void take(Array.from(event.dataTransfer?.files ?? []));
  });
  const input = $<HTMLInputElement>('own-input');
  input.addEventListener('change', () => void take(Array.from(input.files ?? [])));
}
