/** Native kernel calls run one at a time per thread, in order; concurrent calls give the sequential results. */
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { createCallQueue } from '../src/backend/call-queue.js';
import { randomModel } from '../src/model.js';
import { loadDataset } from '../src/node/datasets.js';
import { BACKENDS } from './helpers/backends.js';

describe('call queue', () => {
  it('never runs two calls at once, keeps their order, and survives failures', async () => {
    const queue = createCallQueue();
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const task = (i: number) => async () => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 1));
      order.push(i);
      running--;
      if (i === 3) throw new Error('three');
      return i;
    };
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => queue(task(i))));
    expect(most).toBe(1);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(results[3]).toMatchObject({ status: 'rejected' });
    expect(results[7]).toMatchObject({ status: 'fulfilled', value: 7 });
  });
});

describe.each(BACKENDS)('concurrent calls on %s', (backend) => {
  it('give exactly what the same calls give in sequence', async () => {
    const data = loadDataset('iris');
    const models = [0, 1, 2, 3].map((seed) => randomModel({ inputs: 4, hidden: [8], classes: 3, activation: 'tanh', seed }));
    const sequential = [];
    for (const m of models) sequential.push((await analyze(m, data, { backend, method: 'dense' })).lambdaMax);
    const concurrent = await Promise.all(models.map(async (m) => (await analyze(m, data, { backend, method: 'dense' })).lambdaMax));
    expect(concurrent).toEqual(sequential);
  });
});
