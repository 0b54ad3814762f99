// A user's Vite app: hessbound/browser with no configureWasm at all. Vite rewrites the package's
// `new URL(..., import.meta.url)` asset references and bundles its kernel worker.
import csvText from '../../data/breast_cancer.csv?raw';

const params = new URLSearchParams(location.search);

// Records the Web Workers the library starts (the kernel's), before it is imported. With ?break,
// the page's classic workers (the threaded build's pthread workers) start but never answer, as a
// worker that a page's policy or a proxy silently stalls would.
const workers = [];
const NativeWorker = window.Worker;
const silent = URL.createObjectURL(new Blob(['// never answers\n'], { type: 'text/javascript' }));
window.Worker = class extends NativeWorker {
  constructor(url, options) {
    const classic = (options?.type ?? 'classic') === 'classic';
    super(params.has('break') && classic ? silent : url, options);
    workers.push(String(url));
  }
};

const warnings = [];
const warn = console.warn.bind(console);
console.warn = (...args) => {
  warnings.push(args.join(' '));
  warn(...args);
};

async function library() {
  const h = await import('hessbound/browser');
  if (params.has('break')) h.configureWasm({ threadStartTimeout: 1500 });
  return h;
}

window.run = async (width, method = 'dense', backend = 'wasm') => {
  const { analyze, getBackend, parseCsv, randomModel, standardize } = await library();
  const data = standardize(parseCsv(csvText, { name: 'breast_cancer' }));
  const model = randomModel({ inputs: data.d, hidden: [width], classes: data.classes, activation: 'tanh', seed: 0 });
  let progress = 0;
  const r = await analyze(model, data, { method, k: 1, bound: false, backend, onProgress: () => progress++ });
  const b = await getBackend(backend);
  const threads = b.threadsUsed ? await b.threadsUsed() : 1;
  return { lambdaMax: r.lambdaMax, backend: r.backend, progress, workers: workers.filter((w) => !w.startsWith('blob:') && !w.startsWith('data:')), threads, warnings, isolated: crossOriginIsolated, cores: navigator.hardwareConcurrency };
};

window.forceThreads = async () => {
  const { getBackend } = await library();
  try {
    await getBackend('wasm-threads');
    return { ok: true };
  } catch (e) {
    return { ok: false, code: e.code, message: e.message };
  }
};
document.body.dataset.ready = '1';
