/** The independent reference fixtures (float64 autodiff Hessians), copied from shared/fixtures. */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WsBounds } from '../../src/analyze.js';
import { parseDataJson } from '../../src/data.js';
import { parseModelJson } from '../../src/model.js';
import type { Dataset, Model, Reduction } from '../../src/types.js';

export const FIXTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

export interface Expected {
  parameters: number;
  samples: number;
  loss: number;
  gradNorm: number;
  trace: number;
  traceOfSquare: number;
  lambdaMax: number;
  lambdaMin: number;
  bound: WsBounds;
  topEigenvalues: number[];
  eigenvalues: number[];
}

export interface Fixture {
  name: string;
  model: Model;
  data: Dataset;
  reduction: Reduction;
  expected: Expected;
  hiddenLayers: number;
}

export function loadFixtures(): Fixture[] {
  const names = readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith('.model.json'))
    .map((f) => f.replace('.model.json', ''))
    .sort();
  return names.map((name) => {
    const read = (kind: string) => readFileSync(join(FIXTURE_DIR, `${name}.${kind}.json`), 'utf8');
    const model = parseModelJson(read('model'));
    return {
      name,
      model,
      data: parseDataJson(read('data')),
      reduction: name.endsWith('-sum') ? 'sum' : 'mean',
      expected: JSON.parse(read('expected')) as Expected,
      hiddenLayers: model.layers.length - 1,
    };
  });
}

/** |a - b| / max(|b|, floor): relative error with a floor for values near zero. */
export function relErr(a: number, b: number, floor = 1e-300): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), floor);
}
