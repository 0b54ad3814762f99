/**
 * Child process for test/simd-paths.test.ts (run with HESSBOUND_SIMD set), native backend, digits
 * 64-48-10 tanh: trains 40 Adam steps from a seeded start (training's evaluation: elementwise
 * passes, and on AVX-512 the hand-written products), then on the seeded start itself (the same
 * point on every path) the loss and gradient, three Hessian-vector products (the HVP's SIMD
 * variants) and lambda_max / lambda_min by Lanczos. Prints the SIMD path that ran and every number
 * at full precision as JSON.
 */
import { analyze, getBackend, loadDataset, randomModel, train } from '../../src/index.js';
import { flattenParams } from '../../src/model.js';
import { toProblemSpec } from '../../src/problem.js';
import { createRng } from '../../src/rng.js';

const data = loadDataset('digits');
const start = randomModel({ inputs: data.d, hidden: [48], classes: 10, activation: 'tanh', seed: 3 });
const trained = await train(start, data, { maxSteps: 40, adamSteps: 40, backend: 'native' });
const backend = await getBackend('native');
const spec = toProblemSpec(start, data);
const P = spec.params.length;
const rng = createRng(7);
const directions = Float64Array.from({ length: 3 * P }, () => rng.normal());
const hvp = await backend.hvp(spec, directions, 3);
const { loss, gradient } = backend.lossGrad(spec);
const analysed = await analyze(start, data, { method: 'lanczos', bound: false, backend: 'native' });
process.stdout.write(
  `${JSON.stringify({
    simd: backend.addonInfo?.simd,
    simdCpu: backend.addonInfo?.simdCpu,
    trainedLoss: trained.loss,
    trainedParams: Array.from(flattenParams(trained.model)),
    loss,
    gradient: Array.from(gradient),
    hvp: Array.from(hvp),
    lambdaMax: analysed.lambdaMax,
    lambdaMin: analysed.lambdaMin,
  })}\n`,
);
