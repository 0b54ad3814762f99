// Prints, as JSON, what the native addon computes on two reference fixtures (tanh and relu):
// dense and Lanczos spectra, loss, gradient norm, traces and the WS bound. Run by test-arm64.mjs
// once with the x64 addon on the host and once with the arm64 addon under qemu, to compare them.
//   HESSBOUND_ADDON=FILE node fixture-probe.mjs
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const h = await import(join(repo, 'dist', 'src', 'index.js'));
const FIXTURES = ['iris-sigmoid-h6-trained', 'iris-relu-h8', 'bc-tanh-h3-scale3'];
const out = { arch: process.arch, node: process.version, fixtures: {} };
for (const name of FIXTURES) {
  const read = (kind) => readFileSync(join(repo, 'test', 'fixtures', `${name}.${kind}.json`), 'utf8');
  const model = h.parseModelJson(read('model'));
  const data = h.parseDataJson(read('data'));
  const dense = await h.analyze(model, data, { backend: 'native', method: 'dense', assembly: 'hvp' });
  const lanczos = await h.analyze(model, data, { backend: 'native', method: 'lanczos', k: 3, bound: false });
  out.fixtures[name] = {
    expected: JSON.parse(read('expected')),
    backend: dense.backend,
    loss: dense.loss, gradNorm: dense.gradNorm, trace: dense.trace, traceOfSquare: dense.traceOfSquare,
    lambdaMax: dense.lambdaMax, lambdaMin: dense.lambdaMin, bound: dense.bound, eigenvalues: dense.eigenvalues,
    lanczosTop: lanczos.topEigenvalues,
  };
}
console.log(JSON.stringify(out));
