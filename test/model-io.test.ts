import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { parseDataJson } from '../src/data.js';
import { HessboundError } from '../src/errors.js';
import type { ErrorCode } from '../src/errors.js';
import {
  MODEL_FORMAT,
  flattenParams,
  hasBias,
  layerSizes,
  modelToJson,
  parameterCount,
  parseActivation,
  parseModelJson,
  randomModel,
  unflattenParams,
  validateModel,
  validateModelForData,
} from '../src/model.js';
import { createRng } from '../src/rng.js';
import type { Dataset, Model } from '../src/types.js';
import { expectError } from './helpers/expect.js';

const fixturesDir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const modelFixtures = readdirSync(fixturesDir).filter((f) => f.endsWith('.model.json')).sort();

function readFixture(file: string): string {
  return readFileSync(join(fixturesDir, file), 'utf8');
}


/** A valid two-layer model JSON (4 -> 3 -> 2) to mutate in error tests. */
function validJson() {
  return {
    format: MODEL_FORMAT,
    activation: 'tanh',
    layers: [
      { weight: [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]], bias: [0.1, 0.2, 0.3] as number[] | null },
      { weight: [[1, 2, 3], [4, 5, 6]], bias: [0, 0] as number[] | null },
    ] as { weight: unknown[][]; bias: unknown }[],
  };
}

describe('fixture models', () => {
  it('finds the fixtures', () => {
    expect(modelFixtures.length).toBeGreaterThanOrEqual(9);
  });

  for (const file of modelFixtures) {
    it(`${file} parses, round-trips exactly and matches its expected parameter count`, () => {
      const text = readFixture(file);
      const model = parseModelJson(text);
      expect(modelToJson(model)).toEqual(JSON.parse(text));
      expect(parseModelJson(modelToJson(model))).toEqual(model);
      expect(parseModelJson(JSON.stringify(modelToJson(model)))).toEqual(model);

      const expected = JSON.parse(readFixture(file.replace('.model.json', '.expected.json'))) as { parameters: number };
      expect(parameterCount(model)).toBe(expected.parameters);
      expect(flattenParams(model).length).toBe(expected.parameters);
      expect(unflattenParams(model, flattenParams(model))).toEqual(model);

      const data = parseDataJson(readFixture(file.replace('.model.json', '.data.json')));
      expect(() => validateModelForData(model, data)).not.toThrow();
      expect(validateModel(model)).toBe(model);
    });
  }

  it('reads sizes and bias flags', () => {
    const wine = parseModelJson(readFixture('wine-softplus-h5x4.model.json'));
    expect(wine.activation).toBe('softplus');
    expect(layerSizes(wine)).toEqual([13, 5, 4, 3]);
    expect(hasBias(wine)).toEqual([true, true, true]);
    const nobias = parseModelJson(readFixture('synth-silu-h4x3x3-nobias.model.json'));
    expect(layerSizes(nobias)).toEqual([3, 4, 3, 3, 3]);
    expect(hasBias(nobias)).toEqual([false, false, false, false]);
    expect(parameterCount(nobias)).toBe(12 + 12 + 9 + 9);
  });
});

describe('parameter order', () => {
  const tiny: Model = parseModelJson({
    format: MODEL_FORMAT,
    activation: 'sigmoid',
    layers: [
      { weight: [[1, 2], [3, 4], [5, 6]], bias: [7, 8, 9] },
      { weight: [[10, 11, 12], [13, 14, 15]], bias: [16, 17] },
    ],
  });

  it('flattens layer by layer, W row-major then b (PyTorch order)', () => {
    expect(Array.from(flattenParams(tiny))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]);
    expect(parameterCount(tiny)).toBe(17);
    expect(layerSizes(tiny)).toEqual([2, 3, 2]);
  });

  it('skips absent biases', () => {
    const json = modelToJson(tiny);
    json.layers[0]!.bias = null;
    expect(Array.from(flattenParams(parseModelJson(json)))).toEqual([1, 2, 3, 4, 5, 6, 10, 11, 12, 13, 14, 15, 16, 17]);
  });

  it('unflattens new values into the same structure, copying them', () => {
    const params = Float64Array.from({ length: 17 }, (_, i) => -i);
    const model = unflattenParams(tiny, params);
    expect(Array.from(model.layers[0]!.weight)).toEqual([-0, -1, -2, -3, -4, -5]);
    expect(Array.from(model.layers[0]!.bias!)).toEqual([-6, -7, -8]);
    expect(Array.from(model.layers[1]!.weight)).toEqual([-9, -10, -11, -12, -13, -14]);
    expect(Array.from(model.layers[1]!.bias!)).toEqual([-15, -16]);
    params[0] = 99;
    expect(model.layers[0]!.weight[0]).toBe(-0);
    expect(Array.from(flattenParams(unflattenParams(tiny, [...flattenParams(tiny)])))).toEqual(Array.from(flattenParams(tiny)));
    expectError(() => unflattenParams(tiny, new Float64Array(16)), 'SHAPE_MISMATCH', '16 values but the model has 17 parameters');
  });
});

describe('model validation errors', () => {
  it('accepts the valid base case', () => {
    expect(layerSizes(parseModelJson(validJson()))).toEqual([4, 3, 2]);
  });

  it('rejects invalid JSON text and non-objects', () => {
    expectError(() => parseModelJson('{"format": '), 'BAD_MODEL', 'not valid JSON');
    expectError(() => parseModelJson('[1, 2]'), 'BAD_MODEL', 'must be a JSON object');
  });

  it('rejects a missing or wrong format', () => {
    const missing: Record<string, unknown> = validJson();
    delete missing['format'];
    const err = expectError(() => parseModelJson(missing), 'BAD_MODEL', 'no "format"');
    expect(err.hint).toContain(MODEL_FORMAT);
    expectError(() => parseModelJson({ ...validJson(), format: 'hessbound.mlp.v0' }), 'BAD_MODEL', 'unsupported model format "hessbound.mlp.v0"');
  });

  it('rejects unknown activations, listing the valid ones', () => {
    expectError(() => parseModelJson({ ...validJson(), activation: 'swishy' }), 'BAD_ACTIVATION', 'sigmoid, tanh, softplus, gelu, silu, identity, relu, leaky_relu');
    expectError(() => parseModelJson({ ...validJson(), activation: 3 }), 'BAD_ACTIVATION', 'must be a string');
  });

  it('refuses non-smooth activations other than relu and leaky_relu, and suggests smooth ones', () => {
    for (const name of ['elu', 'relu6', 'HardTanh']) {
      const err = expectError(() => parseModelJson({ ...validJson(), activation: name }), 'BAD_ACTIVATION', 'not smooth');
      expect(err.message).toContain("sigma''");
      expect(err.hint).toMatch(/softplus/);
      expect(err.hint).toMatch(/gelu/);
      expect(err.hint).toMatch(/silu/);
    }
    expect(parseActivation(' GELU ')).toBe('gelu');
  });

  it('needs at least one hidden layer', () => {
    const json = validJson();
    json.layers = [{ weight: [[1, 2], [3, 4]], bias: null }];
    expectError(() => parseModelJson(json), 'BAD_MODEL', 'needs at least 2');
    expectError(() => parseModelJson({ ...validJson(), layers: [] }), 'BAD_MODEL', 'has 0 layer(s)');
    expectError(() => parseModelJson({ ...validJson(), layers: 'x' }), 'BAD_MODEL', '"layers" must be an array');
  });

  it('rejects ragged weight rows', () => {
    const json = validJson();
    json.layers[1]!.weight = [[1, 2, 3], [4, 5]];
    expectError(() => parseModelJson(json), 'SHAPE_MISMATCH', 'layers[1].weight is ragged: row 1 has 2 entries but row 0 has 3');
  });

  it('rejects layers that do not chain, naming both layers and sizes', () => {
    const json = validJson();
    json.layers[1]!.weight = [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]];
    const err = expectError(() => parseModelJson(json), 'SHAPE_MISMATCH', 'layers[1] takes 5 inputs but layers[0] produces 3 outputs');
    expect(err.hint).toContain('transposed');
  });

  it('rejects a bias of the wrong length', () => {
    const json = validJson();
    json.layers[0]!.bias = [1, 2];
    expectError(() => parseModelJson(json), 'SHAPE_MISMATCH', 'layers[0].bias has 2 entries but the layer has 3 outputs');
    json.layers[0]!.bias = 'zeros';
    expectError(() => parseModelJson(json), 'BAD_MODEL', 'layers[0].bias must be an array');
  });

  it('rejects NaN, Infinity and non-numbers, naming the layer and index', () => {
    let json = validJson();
    json.layers[1]!.weight[0]![2] = Number.NaN;
    expectError(() => parseModelJson(json), 'NON_FINITE', 'layers[1].weight[0][2] is NaN');
    json = validJson();
    json.layers[0]!.bias = [0, Number.POSITIVE_INFINITY, 0];
    expectError(() => parseModelJson(json), 'NON_FINITE', 'layers[0].bias[1] is Infinity');
    json = validJson();
    json.layers[0]!.weight[1]![0] = '5';
    expectError(() => parseModelJson(json), 'BAD_MODEL', 'layers[0].weight[1][0] is the string "5", not a number');
    json = validJson();
    json.layers[0]!.weight[2]![3] = null;
    expectError(() => parseModelJson(json), 'BAD_MODEL', 'layers[0].weight[2][3] is null');
  });

  it('rejects empty layers', () => {
    let json = validJson();
    json.layers[0]!.weight = [];
    expectError(() => parseModelJson(json), 'BAD_MODEL', 'layers[0].weight is empty');
    json = validJson();
    json.layers[0]!.weight = [[], [], []];
    expectError(() => parseModelJson(json), 'BAD_MODEL', 'layers[0].weight[0] is empty');
    json = validJson();
    json.layers[1] = { bias: null } as unknown as { weight: unknown[][]; bias: unknown };
    expectError(() => parseModelJson(json), 'BAD_MODEL', 'layers[1] has no "weight"');
  });

  it('rejects an output layer with fewer than 2 units', () => {
    const json = validJson();
    json.layers[1] = { weight: [[1, 2, 3]], bias: [0] };
    expectError(() => parseModelJson(json), 'BAD_MODEL', 'output layer has 1 unit(s)');
  });

  it('validates typed models built in code', () => {
    const model = parseModelJson(validJson());
    const broken: Model = { ...model, layers: [model.layers[0]!, { ...model.layers[1]!, weight: new Float64Array(5) }] };
    expectError(() => validateModel(broken), 'SHAPE_MISMATCH', 'layers[1].weight must be a Float64Array of 2x3');
    const nan = unflattenParams(model, flattenParams(model).map((v, i) => (i === 4 ? Number.NaN : v)));
    expectError(() => validateModel(nan), 'NON_FINITE', 'layers[0].weight[1][0] is NaN');
  });
});

describe('model vs data', () => {
  const model = parseModelJson(validJson()); // 4 inputs, 2 classes
  const dataWith = (d: number, classes: number, labelled = true): Dataset => ({
    n: 1,
    d,
    classes,
    x: new Float64Array(d),
    targets: new Float64Array(classes),
    labels: labelled ? new Int32Array(1) : null,
  });

  it('accepts matching sizes', () => {
    expect(() => validateModelForData(model, dataWith(4, 2))).not.toThrow();
  });

  it('names both input widths', () => {
    expectError(() => validateModelForData(model, dataWith(13, 2)), 'SHAPE_MISMATCH', 'takes 4 input features but the data has 13 features');
  });

  it('names both class counts', () => {
    expectError(() => validateModelForData(model, dataWith(4, 3)), 'SHAPE_MISMATCH', 'has 2 outputs but the data has 3 classes');
  });
});

describe('rng', () => {
  it('is deterministic per seed and differs between seeds', () => {
    const draw = (seed: number) => {
      const rng = createRng(seed);
      return Array.from({ length: 8 }, () => rng.next());
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
    expect(draw(1)).not.toEqual(draw(1 + 2 ** 32));
    expect(draw(-1)).not.toEqual(draw(1));
  });

  it('produces uniform [0,1) and standard normal variates', () => {
    const rng = createRng(123);
    const count = 200_000;
    let uniformSum = 0;
    let normalSum = 0;
    let normalSquares = 0;
    let outOfRange = 0;
    for (let i = 0; i < count; i++) {
      const u = rng.next();
      if (u < 0 || u >= 1) outOfRange++;
      uniformSum += u;
      const z = rng.normal();
      normalSum += z;
      normalSquares += z * z;
    }
    expect(outOfRange).toBe(0);
    expect(Math.abs(uniformSum / count - 0.5)).toBeLessThan(0.005);
    expect(Math.abs(normalSum / count)).toBeLessThan(0.01);
    expect(Math.abs(normalSquares / count - 1)).toBeLessThan(0.02);
  });

  it('has int() and shuffle()', () => {
    const rng = createRng(5);
    const values = Array.from({ length: 1000 }, () => rng.int(6));
    expect(Math.min(...values)).toBe(0);
    expect(Math.max(...values)).toBe(5);
    const shuffled = rng.shuffle([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([...shuffled].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expectError(() => createRng(1.5), 'BAD_OPTION', 'seed');
  });
});

describe('randomModel', () => {
  const base = { inputs: 200, hidden: [300], classes: 100, activation: 'tanh' as const, seed: 11 };

  function weightStats(weight: Float64Array): { mean: number; variance: number } {
    let sum = 0;
    let squares = 0;
    for (const w of weight) {
      sum += w;
      squares += w * w;
    }
    const mean = sum / weight.length;
    return { mean, variance: squares / weight.length - mean * mean };
  }

  it('builds the requested structure with zero biases', () => {
    const model = randomModel({ inputs: 4, hidden: [8, 5], classes: 3, activation: 'silu', seed: 1 });
    expect(model.activation).toBe('silu');
    expect(layerSizes(model)).toEqual([4, 8, 5, 3]);
    expect(hasBias(model)).toEqual([true, true, true]);
    for (const layer of model.layers) expect(Array.from(layer.bias!).every((b) => b === 0)).toBe(true);
    expect(hasBias(randomModel({ ...base, bias: false }))).toEqual([false, false]);
    expect(() => validateModel(model)).not.toThrow();
  });

  it('is deterministic by seed', () => {
    expect(flattenParams(randomModel(base))).toEqual(flattenParams(randomModel(base)));
    expect(flattenParams(randomModel(base))).not.toEqual(flattenParams(randomModel({ ...base, seed: 12 })));
  });

  it('has Glorot variance 2/(fan_in+fan_out) by default', () => {
    const [first, second] = randomModel(base).layers;
    const s1 = weightStats(first!.weight);
    const s2 = weightStats(second!.weight);
    // 60000 and 30000 draws: the sample variance is within ~1% of the truth; 5% still tells
    // Glorot from He or from 1/fan_in apart (those differ by 20% or more here).
    expect(Math.abs(s1.variance / (2 / (200 + 300)) - 1)).toBeLessThan(0.05);
    expect(Math.abs(s2.variance / (2 / (300 + 100)) - 1)).toBeLessThan(0.05);
    expect(Math.abs(s1.mean)).toBeLessThan(4 * Math.sqrt(2 / 500 / 60000));
  });

  it('has He variance 2/fan_in with init "he"', () => {
    const [first, second] = randomModel({ ...base, init: 'he' }).layers;
    expect(Math.abs(weightStats(first!.weight).variance / (2 / 200) - 1)).toBeLessThan(0.05);
    expect(Math.abs(weightStats(second!.weight).variance / (2 / 300) - 1)).toBeLessThan(0.05);
  });

  it('rejects bad options', () => {
    expectError(() => randomModel({ ...base, hidden: [] }), 'BAD_OPTION', 'hidden must be a non-empty array');
    expectError(() => randomModel({ ...base, hidden: [3, 0] }), 'BAD_OPTION', 'hidden[1] must be an integer >= 1');
    expectError(() => randomModel({ ...base, classes: 1 }), 'BAD_OPTION', 'classes must be an integer >= 2');
    expectError(() => randomModel({ ...base, inputs: 2.5 }), 'BAD_OPTION', 'inputs');
    expectError(() => randomModel({ ...base, activation: 'elu' as never }), 'BAD_ACTIVATION', 'not smooth');
    expectError(() => randomModel({ ...base, init: 'lecun' as never }), 'BAD_OPTION', "init must be 'glorot' or 'he'");
  });
});
