/**
 * Concurrent native calls against the same calls in sequence (issue 16, item 8): 50 `analyze` calls
 * (iris, width 16, dense) started at once, against one after another, in the same process, with
 * the native backend's call queue. Reported per round as the ratio concurrent / sequential (1 or a
 * little above is the goal; issue 16 measured 35-120x before the queue). Rounds alternate the order.
 *
 *   node --import tsx bench/concurrency.ts [rounds]   (output kept in bench/results/concurrency.txt)
 */
import { performance } from 'node:perf_hooks';
import { analyze, loadDataset, randomModel } from '../src/index.js';

const CALLS = 50;
const rounds = Number(process.argv[2] ?? 5);
const data = loadDataset('iris');
const model = randomModel({ inputs: 4, hidden: [16], classes: 3, activation: 'tanh', seed: 0 });
const call = () => analyze(model, data, { backend: 'native', method: 'dense' });

async function sequential(): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < CALLS; i++) await call();
  return performance.now() - t;
}

async function concurrent(): Promise<number> {
  const t = performance.now();
  await Promise.all(Array.from({ length: CALLS }, call));
  return performance.now() - t;
}

await sequential(); // warm-up: addon load, page faults
console.log(`${CALLS} native analyze calls (iris, width 16, dense), OPENBLAS_NUM_THREADS=${process.env['OPENBLAS_NUM_THREADS'] ?? '(default)'}`);
console.log('round  sequential ms  concurrent ms  concurrent/sequential');
const ratios: number[] = [];
for (let r = 0; r < rounds; r++) {
  const [s, c] = r % 2 === 0 ? [await sequential(), await concurrent()] : (([c2, s2]) => [s2, c2])([await concurrent(), await sequential()]);
  ratios.push(c / s);
  console.log(`${String(r + 1).padStart(5)}  ${s.toFixed(1).padStart(13)}  ${c.toFixed(1).padStart(13)}  ${(c / s).toFixed(3).padStart(21)}`);
}
ratios.sort((a, b) => a - b);
console.log(`median ratio ${ratios[Math.floor(ratios.length / 2)]!.toFixed(3)} (range ${ratios[0]!.toFixed(3)}-${ratios.at(-1)!.toFixed(3)}); load average ${(await import('node:os')).loadavg()[0]!.toFixed(1)}`);
