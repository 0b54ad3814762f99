/**
 * A user's own worker (bundled by the test as a module worker and as a classic IIFE worker) that uses
 * hessbound/browser: inside a worker it runs the kernel in-thread (no nested kernel worker).
 */
import { analyze, configureWasm, parseCsv, randomModel, standardize } from 'hessbound/browser';

const scope = globalThis as unknown as { onmessage: ((e: MessageEvent) => void) | null; postMessage(m: unknown): void };

scope.onmessage = async (e: MessageEvent<{ dataset: string; width: number; activation: 'tanh'; baseUrl: string }>) => {
  const p = e.data;
  try {
    configureWasm({ baseUrl: p.baseUrl });
    const text = await (await fetch(new URL(`/data/${p.dataset}.csv`, p.baseUrl))).text();
    const data = standardize(parseCsv(text, { name: p.dataset }));
    const model = randomModel({ inputs: data.d, hidden: [p.width], classes: data.classes, activation: p.activation, seed: 0 });
    let progress = 0;
    const r = await analyze(model, data, { method: 'dense', backend: 'wasm', onProgress: () => progress++ });
    scope.postMessage({ lambdaMax: r.lambdaMax, loss: r.loss, progress });
  } catch (error) {
    scope.postMessage({ error: (error as Error).message });
  }
};
