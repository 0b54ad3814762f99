/**
 * Training steps alone, WebAssembly against single-threaded native (issue 15). bench/wasm-kernels.ts
 * times whole `train()` calls of 30 Adam steps; each call also does fixed work after the steps (a
 * forward pass in TypeScript for accuracy and saturation, a loss+gradient, the diagnostics: ~280 ms
 * on digits width 256, the same on every backend), which hides the steps' own ratio. Here a step is
 * (time of a 31-step call - time of a 1-step call) / 30, so the fixed work cancels.
 *
 *   HESSBOUND_THREADS=1 OPENBLAS_NUM_THREADS=1 node --import tsx bench/wasm-train-steps.ts [--rounds N]
 */
import { loadavg } from 'node:os';

import { loadDataset, randomModel, type BackendName } from '../src/index.js';
import { adamStepMs } from './lib/train-step.js';

const roundsAt = process.argv.indexOf('--rounds');
const rounds = roundsAt > 0 ? Number(process.argv[roundsAt + 1]) : 3;
const backends: BackendName[] = ['native', 'wasm', 'wasm-threads'];
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] as number;

const data = await loadDataset('digits');
console.log(`Run ${new Date().toISOString()}, \`node --import tsx bench/wasm-train-steps.ts --rounds ${rounds}\`; HESSBOUND_THREADS=${process.env['HESSBOUND_THREADS'] ?? '(unset)'}, OPENBLAS_NUM_THREADS=${process.env['OPENBLAS_NUM_THREADS'] ?? '(unset)'}; load average at the start ${loadavg().map((l) => l.toFixed(2)).join(' ')}. One Adam step (loss + gradient + update), ms: median over ${rounds} rounds after a warm-up round; each round runs the backends in turn.\n`);
console.log('| width | P | native | wasm | wasm-threads | fixed work of a call (native) | wasm / native per step | wasm-threads / native per step |');
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const width of [64, 256]) {
  const model = randomModel({ inputs: data.d, hidden: [width], classes: data.classes, activation: 'tanh', seed: 1 });
  const step: Record<string, number[]> = {};
  const fixed: number[] = [];
  for (let round = 0; round <= rounds; round++)
    for (const backend of backends) {
      const { step: ms, fixed: rest } = await adamStepMs(model, data, backend);
      if (round === 0) continue; // warm-up: module load, JIT, first allocations
      (step[backend] ??= []).push(ms);
      if (backend === 'native') fixed.push(rest);
    }
  const [n, w, t] = backends.map((b) => median(step[b] as number[])) as [number, number, number];
  const P = (data.d + 1) * width + (width + 1) * data.classes;
  console.log(`| ${width} | ${P} | ${n.toFixed(2)} | ${w.toFixed(2)} | ${t.toFixed(2)} | ${median(fixed).toFixed(0)} ms | **${(w / n).toFixed(2)}x** | ${(t / n).toFixed(2)}x |`);
}
