/**
 * Child process of bench/sparse-inputs.ts: the time of one Hessian-vector product on the seeded
 * synthetic digit set (bench/lib/synthetic-digits.ts), N x 784, a 784-WIDTH-10 tanh MLP at its
 * Glorot start, with the layer-0 format HESSBOUND_SPARSE_INPUTS the parent set. hvp() with 1 and
 * with 1 + K directions, each timed in-process (wall and this process's CPU time); the difference
 * over K is the time of a product, without the problem conversion and forward pass both calls pay.
 * Prints one JSON line, with the first product's values' checksum for the parent to compare.
 *
 *   node --import tsx bench/lib/hvp-products.ts N WIDTH K
 */
import { getBackend, hvp, randomModel } from '../../src/index.js';
import { syntheticDigits } from './synthetic-digits.js';

const [n = '10000', width = '256', k = '8'] = process.argv.slice(2);
const data = syntheticDigits({ n: Number(n) });
const model = randomModel({ inputs: data.d, hidden: [Number(width)], classes: data.classes, activation: 'tanh', seed: 0 });
const backend = await getBackend('native');
let P = 0;
for (const layer of model.layers) P += layer.weight.length + (layer.bias ? layer.bias.length : 0);
const K = Number(k);
const directions = new Float64Array((1 + K) * P);
let s = 12345;
for (let i = 0; i < directions.length; i++) {
  s = (s * 1103515245 + 12345) % 2147483648;
  directions[i] = s / 1073741824 - 1;
}

async function timed(count: number): Promise<{ wall: number; cpu: number; out: Float64Array }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const out = await hvp(model, data, directions.subarray(0, count * P), { backend: 'native' });
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1e6, out };
}

await timed(1); // warm-up: page faults of the first allocation
const one = await timed(1);
const many = await timed(1 + K);
let checksum = 0;
for (let i = 0; i < P; i++) checksum += Math.abs(one.out[i]!);
process.stdout.write(
  `${JSON.stringify({
    wallPerProduct: (many.wall - one.wall) / K,
    cpuPerProduct: (many.cpu - one.cpu) / K,
    checksum,
    simd: backend.addonInfo?.simd ?? null,
  })}\n`,
);
