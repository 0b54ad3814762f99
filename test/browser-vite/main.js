// A user's Vite app: hessbound/browser with no configureWasm at all. Vite rewrites the package's
// `new URL(..., import.meta.url)` asset references and bundles its kernel worker.
import csvText from '../../data/breast_cancer.csv?raw';

// Records the Web Workers the library starts (the kernel's), before it is imported.
const workers = [];
const NativeWorker = window.Worker;
window.Worker = class extends NativeWorker {
  constructor(url, options) {
    super(url, options);
    workers.push(String(url));
  }
};

window.run = async (width) => {
  const { analyze, parseCsv, randomModel, standardize } = await import('hessbound/browser');
  const data = standardize(parseCsv(csvText, { name: 'breast_cancer' }));
  const model = randomModel({ inputs: data.d, hidden: [width], classes: data.classes, activation: 'tanh', seed: 0 });
  let progress = 0;
  const r = await analyze(model, data, { method: 'dense', backend: 'wasm', onProgress: () => progress++ });
  return { lambdaMax: r.lambdaMax, backend: r.backend, progress, workers };
};
document.body.dataset.ready = '1';
