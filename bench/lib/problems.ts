/**
 * The two benchmark problems, built once and written as JSON so that hessbound (in-process and
 * CLI) and the PyTorch peer read exactly the same float64 model and data.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadDataset, modelToJson, parameterCount, randomModel, type Dataset, type Model } from '../../src/index.js';

export interface Problem {
  name: string;
  model: Model;
  data: Dataset;
  parameters: number;
  modelPath: string;
  dataPath: string;
  describe: string;
}

let workDir: string | undefined;

/** Write the JSON files to `dir` and keep them (for re-running the commands by hand). */
export function keepInputsIn(dir: string): void {
  mkdirSync(dir, { recursive: true });
  workDir = dir;
}

/** The folder for the JSON files: a temporary one, removed at exit, unless keepInputsIn() chose one. */
export function benchDir(): string {
  if (!workDir) {
    const dir = mkdtempSync(join(tmpdir(), 'hessbound-bench-'));
    workDir = dir;
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return workDir;
}

function dataJson(data: Dataset): { x: number[][]; y: number[] } {
  if (!data.labels) throw new Error(`${data.name ?? 'data'}: the benches need integer labels`);
  const x: number[][] = [];
  for (let i = 0; i < data.n; i++) x.push(Array.from(data.x.subarray(i * data.d, (i + 1) * data.d)));
  return { x, y: Array.from(data.labels) };
}

/**
 * A one-hidden-layer tanh MLP (hessbound's seeded Glorot initialisation, zero biases) on an
 * embedded data set, standardized per feature (population standard deviation), all samples.
 */
export function makeProblem(dataset: 'iris' | 'digits', width: number, seed = 0): Problem {
  const data = loadDataset(dataset);
  const model = randomModel({ inputs: data.d, hidden: [width], classes: data.classes, activation: 'tanh', seed });
  const name = `${dataset}-tanh-${width}`;
  const dir = benchDir();
  const modelPath = join(dir, `${name}.model.json`);
  const dataPath = join(dir, `${name}.data.json`);
  // JSON.stringify prints the shortest decimal that round-trips, so both readers get the same doubles.
  writeFileSync(modelPath, JSON.stringify(modelToJson(model)));
  writeFileSync(dataPath, JSON.stringify(dataJson(data)));
  const parameters = parameterCount(model);
  return {
    name,
    model,
    data,
    parameters,
    modelPath,
    dataPath,
    describe: `${dataset} (N = ${data.n}, d = ${data.d}, ${data.classes} classes, standardized), ` +
      `${data.d}-${width}-${data.classes} tanh MLP, seed ${seed}, P = ${parameters}`,
  };
}
