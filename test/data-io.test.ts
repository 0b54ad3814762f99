import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Matrix } from 'ml-matrix';
import { afterAll, describe, expect, it } from 'vitest';

import { oneHot, parseCsv, parseDataJson, standardize, subsample, toDataset, withClasses } from '../src/data.js';
import { HessboundError } from '../src/errors.js';
import type { ErrorCode } from '../src/errors.js';
import { modelToJson, parseModelJson, randomModel } from '../src/model.js';
import {
  DATASET_NAMES,
  dataDirectory,
  loadDataset,
  readDataFile,
  readModelFile,
  writeModelFile,
} from '../src/node/datasets.js';
import type { Dataset } from '../src/types.js';
import { expectError } from './helpers/expect.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixturesDir = join(here, 'fixtures');
const dataFixtures = readdirSync(fixturesDir).filter((f) => f.endsWith('.data.json')).sort();


function row(data: Dataset, i: number): number[] {
  return Array.from(data.x.subarray(i * data.d, (i + 1) * data.d));
}

function columnStats(data: Dataset, j: number): { mean: number; std: number } {
  let sum = 0;
  for (let i = 0; i < data.n; i++) sum += data.x[i * data.d + j]!;
  const mean = sum / data.n;
  let variance = 0;
  for (let i = 0; i < data.n; i++) variance += (data.x[i * data.d + j]! - mean) ** 2;
  return { mean, std: Math.sqrt(variance / data.n) };
}

describe('fixture data', () => {
  it('finds the fixtures', () => {
    expect(dataFixtures.length).toBeGreaterThanOrEqual(9);
  });

  for (const file of dataFixtures) {
    it(`${file} parses with the expected sample count`, () => {
      const raw = JSON.parse(readFileSync(join(fixturesDir, file), 'utf8')) as { x: number[][]; y?: number[] };
      const data = parseDataJson(readFileSync(join(fixturesDir, file), 'utf8'));
      const expected = JSON.parse(readFileSync(join(fixturesDir, file.replace('.data.json', '.expected.json')), 'utf8')) as { samples: number };
      expect(data.n).toBe(expected.samples);
      expect(data.d).toBe(raw.x[0]!.length);
      expect(data.x.length).toBe(data.n * data.d);
      expect(data.targets.length).toBe(data.n * data.classes);
      expect(row(data, data.n - 1)).toEqual(raw.x[data.n - 1]);
      if (raw.y) expect(Array.from(data.labels!)).toEqual(raw.y);
      else expect(data.labels).toBeNull();
    });
  }

  it('reads soft targets', () => {
    const data = parseDataJson(readFileSync(join(fixturesDir, 'synth-gelu-h7-soft.data.json'), 'utf8'));
    expect(data.classes).toBe(4);
    expect(data.labels).toBeNull();
  });
});

describe('parseDataJson', () => {
  it('one-hot encodes labels, classes = max + 1', () => {
    const data = parseDataJson('{"x": [[1, 2], [3, 4], [5, 6]], "y": [0, 2, 1]}', { name: 'tiny' });
    expect(data).toMatchObject({ n: 3, d: 2, classes: 3, name: 'tiny' });
    expect(Array.from(data.x)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(data.targets)).toEqual([1, 0, 0, 0, 0, 1, 0, 1, 0]);
    expect(Array.from(data.labels!)).toEqual([0, 2, 1]);
  });

  it('honours an explicit "classes" field', () => {
    const data = parseDataJson({ x: [[1], [2]], y: [0, 0], classes: 3 });
    expect(data.classes).toBe(3);
    expect(Array.from(data.targets)).toEqual([1, 0, 0, 1, 0, 0]);
    expectError(() => parseDataJson({ x: [[1], [2]], y: [0, 3], classes: 3 }), 'BAD_LABELS', 'label 3 is out of range for 3 classes');
    expectError(() => parseDataJson({ x: [[1], [2]], y: [0, 1], classes: 1 }), 'BAD_OPTION', 'classes must be an integer');
  });

  it('accepts soft targets and checks that rows are distributions', () => {
    const data = parseDataJson({ x: [[1], [2]], targets: [[0.25, 0.75], [1, 0]] });
    expect(data.classes).toBe(2);
    expect(Array.from(data.targets)).toEqual([0.25, 0.75, 1, 0]);
    expectError(() => parseDataJson({ x: [[1], [2]], targets: [[0.25, 0.75], [0.5, 0.4]] }), 'BAD_LABELS', 'targets row 1 sums to 0.9');
    expectError(() => parseDataJson({ x: [[1], [2]], targets: [[1.5, -0.5], [1, 0]] }), 'BAD_LABELS', 'targets row 0 has the negative value -0.5');
    expect(() => parseDataJson({ x: [[1]], targets: [[1 / 3, 1 / 3, 1 / 3]] })).not.toThrow();
  });

  it('checks the targets shape', () => {
    expectError(() => parseDataJson({ x: [[1], [2]], targets: [[0.5, 0.5]] }), 'SHAPE_MISMATCH', 'targets have 1 rows for 2 samples');
    expectError(() => parseDataJson({ x: [[1], [2]], targets: [[0.5, 0.5], [1]] }), 'SHAPE_MISMATCH', 'targets is ragged');
    expectError(() => parseDataJson({ x: [[1]], targets: [[1]] }), 'BAD_LABELS', 'at least 2 classes');
    expectError(() => parseDataJson({ x: [[1]], targets: [[0.5, 0.5]], classes: 3 }), 'SHAPE_MISMATCH', 'targets have 2 columns but classes = 3');
  });

  it('rejects malformed documents', () => {
    expectError(() => parseDataJson('{"x": [[1]],'), 'BAD_DATA', 'not valid JSON');
    expectError(() => parseDataJson({ y: [0] }), 'BAD_DATA', 'no "x"');
    expectError(() => parseDataJson({ x: [[1]] }), 'BAD_DATA', 'needs "y"');
    expectError(() => parseDataJson({ x: [[1]], y: [0], targets: [[1, 0]] }), 'BAD_DATA', 'both "y" and "targets"');
    expectError(() => parseDataJson({ x: [1, 2], y: [0, 1] }), 'BAD_DATA', 'x must be an array of rows');
    expectError(() => parseDataJson({ x: [[1], [2]], y: 'ab' }), 'BAD_LABELS', '"y" must be an array');
  });

  it('rejects empty data', () => {
    expectError(() => parseDataJson({ x: [], y: [] }), 'BAD_DATA', 'no samples');
    expectError(() => parseDataJson({ x: [[], []], y: [0, 1] }), 'BAD_DATA', 'no features');
  });

  it('rejects ragged rows and non-finite or non-numeric values, naming row and column', () => {
    expectError(() => parseDataJson({ x: [[1, 2], [3]], y: [0, 1] }), 'SHAPE_MISMATCH', 'row 1 has 1 values but row 0 has 2');
    expectError(() => parseDataJson({ x: [[1, 2], [3, Number.NaN]], y: [0, 1] }), 'NON_FINITE', 'NaN at row 1, column 1');
    expectError(() => parseDataJson({ x: [[Number.NEGATIVE_INFINITY, 2], [3, 4]], y: [0, 1] }), 'NON_FINITE', '-Infinity at row 0, column 0');
    expectError(() => parseDataJson({ x: [[1, 2], [3, null]], y: [0, 1] }), 'BAD_DATA', 'x[1][1] is null');
    expectError(() => parseDataJson({ x: [[1, 2], 'row'], y: [0, 1] }), 'BAD_DATA', 'x[1] is the string');
  });

  it('rejects bad labels', () => {
    expectError(() => parseDataJson({ x: [[1], [2]], y: [0, 1.5] }), 'BAD_LABELS', 'label 1 is 1.5');
    expectError(() => parseDataJson({ x: [[1], [2]], y: [-1, 1] }), 'BAD_LABELS', 'label 0 is -1');
    expectError(() => parseDataJson({ x: [[1], [2]], y: [0, '1'] }), 'BAD_LABELS', 'label 1 is the string "1"');
    expectError(() => parseDataJson({ x: [[1], [2], [3]], y: [0, 1] }), 'SHAPE_MISMATCH', '2 labels for 3 samples');
    expectError(() => parseDataJson({ x: [[1], [2]], y: [0, 0], classes: 1 }), 'BAD_OPTION', '2');
    expectError(() => parseDataJson({ x: [[1], [2]], y: [0, 1e9] }), 'BAD_LABELS', 'at most');
  });
});

describe('parseCsv', () => {
  const csv = 'f0,f1,label\n1.5,2,0\n-3,4e-1,1\n\n5,6,2\n';

  it('parses header, numeric features and the label column', () => {
    const data = parseCsv(csv, { name: 'small' });
    expect(data).toMatchObject({ n: 3, d: 2, classes: 3, name: 'small' });
    expect(Array.from(data.x)).toEqual([1.5, 2, -3, 0.4, 5, 6]);
    expect(Array.from(data.labels!)).toEqual([0, 1, 2]);
  });

  it('handles CRLF, a BOM, quotes, tabs and a missing header (when told)', () => {
    expect(parseCsv('\uFEFF"a","b",label\r\n1,2,0\r\n3,4,1\r\n').n).toBe(2);
    expect(Array.from(parseCsv('a\tb\tlabel\n1\t2\t1\n3\t4\t0\n').x)).toEqual([1, 2, 3, 4]);
    expect(parseCsv('1,2,0\n3,4,1\n', { header: false }).n).toBe(2);
    expect(parseCsv('f0,label\n1,0\n2,0', { classes: 2 }).classes).toBe(2);
  });

  it('names the line in errors', () => {
    expectError(() => parseCsv('a,b,label\n1,2,0\n1,x,1\n'), 'BAD_DATA', 'line 3, column 2 (b): "x" is not a number');
    expectError(() => parseCsv('a,b,label\n1,2,0\n1,,1\n'), 'BAD_DATA', 'line 3, column 2 (b): empty value');
    expectError(() => parseCsv('a,b,label\n1,2,0\n\n1,2\n'), 'SHAPE_MISMATCH', 'line 4 has 2 values but the header has 3');
    expectError(() => parseCsv('a,b,label\n1,2,0\n1,2,0.5\n'), 'BAD_LABELS', 'line 3: the label "0.5"');
    expectError(() => parseCsv('a,b,label\n1,2,-1\n'), 'BAD_LABELS', 'line 2: the label "-1"');
    expectError(() => parseCsv('a,b,label\n1,NaN,0\n2,3,1\n'), 'NON_FINITE', 'line 2, column 2 (b) is NaN');
    expectError(() => parseCsv('a,b,label\n1,Infinity,0\n2,3,1\n'), 'NON_FINITE', 'line 2, column 2');
  });

  it('keeps a single class for the model to widen', () => {
    expect(parseCsv('a,label\n1,0\n2,0\n').classes).toBe(1);
  });

  it('rejects empty files, header-only files and label-only files', () => {
    expectError(() => parseCsv(''), 'BAD_DATA', 'the CSV is empty');
    expectError(() => parseCsv('a,b,label\n'), 'BAD_DATA', 'no data rows');
    expectError(() => parseCsv('label\n0\n1\n'), 'BAD_DATA', 'feature columns and a label');
  });
});

describe('toDataset', () => {
  const nested = [[1, 2], [3, 4], [5, 6]];
  const expectedX = [1, 2, 3, 4, 5, 6];

  it('accepts nested arrays with number[] or Int32Array labels', () => {
    expect(Array.from(toDataset(nested, [0, 1, 0]).x)).toEqual(expectedX);
    expect(Array.from(toDataset(nested, Int32Array.from([0, 1, 0])).labels!)).toEqual([0, 1, 0]);
  });

  it('accepts {data, rows, cols}', () => {
    const data = toDataset({ data: Float64Array.from(expectedX), rows: 3, cols: 2 }, [1, 0, 1], { name: 'm' });
    expect(data).toMatchObject({ n: 3, d: 2, classes: 2, name: 'm' });
    expectError(() => toDataset({ data: [1, 2, 3], rows: 2, cols: 2 }, [0, 1]), 'SHAPE_MISMATCH', 'has 3 values but rows x cols = 2 x 2 = 4');
  });

  it('accepts ml-matrix matrices for features, soft targets and column labels', () => {
    const x = new Matrix(nested);
    const data = toDataset(x, [0, 1, 1]);
    expect(Array.from(data.x)).toEqual(expectedX);
    const soft = toDataset(x, new Matrix([[0.5, 0.5], [0, 1], [1, 0]]));
    expect(soft.labels).toBeNull();
    expect(Array.from(soft.targets)).toEqual([0.5, 0.5, 0, 1, 1, 0]);
    const column = toDataset(x, Matrix.columnVector([2, 0, 1]));
    expect(Array.from(column.labels!)).toEqual([2, 0, 1]);
    expect(column.classes).toBe(3);
  });

  it('accepts a flat Float64Array only with opts.d', () => {
    const data = toDataset(Float64Array.from(expectedX), [0, 1, 0], { d: 2 });
    expect(data).toMatchObject({ n: 3, d: 2 });
    expectError(() => toDataset(Float64Array.from(expectedX), [0, 1, 0]), 'BAD_OPTION', 'opts.d');
    expectError(() => toDataset(Float64Array.from(expectedX), [0, 1, 0], { d: 4 }), 'SHAPE_MISMATCH', 'not a multiple of d = 4');
  });

  it('validates like the parsers', () => {
    expectError(() => toDataset([[1, 2], [3, 4]], [0, 1, 1]), 'SHAPE_MISMATCH', '3 labels for 2 samples');
    expectError(() => toDataset([[1, Number.NaN], [3, 4]], [0, 1]), 'NON_FINITE', 'row 0, column 1');
    expectError(() => toDataset({ data: [1, Number.NaN, 3, 4], rows: 2, cols: 2 }, [0, 1]), 'NON_FINITE', 'row 0, column 1');
    expectError(() => toDataset([], []), 'BAD_DATA', 'no samples');
    expectError(() => toDataset(42 as never, [0]), 'BAD_DATA', 'x must be nested arrays');
    expectError(() => toDataset([[1], [2]], [[0.5, 0.5], [0.9, 0.2]]), 'BAD_LABELS', 'targets row 1 sums to');
  });
});

describe('transformations', () => {
  it('standardizes to mean 0 and population std 1, leaving constant features at 0', () => {
    const data = toDataset([[1, 0.1, 10], [2, 0.1, 20], [3, 0.1, 60], [6, 0.1, 30]], [0, 1, 0, 1]);
    const scaled = standardize(data);
    for (const j of [0, 2]) {
      const { mean, std } = columnStats(scaled, j);
      expect(Math.abs(mean)).toBeLessThan(1e-12);
      expect(std).toBeCloseTo(1, 12);
    }
    for (let i = 0; i < scaled.n; i++) expect(scaled.x[i * 3 + 1]).toBe(0);
    expect(data.x[0]).toBe(1); // input untouched
    expect(scaled.targets).toBe(data.targets);
  });

  it('one-hot encodes', () => {
    expect(Array.from(oneHot([1, 0, 2], 3))).toEqual([0, 1, 0, 1, 0, 0, 0, 0, 1]);
    expectError(() => oneHot([0, 3], 3), 'BAD_LABELS', 'out of range');
  });

  it('subsamples deterministically, keeping rows and classes', () => {
    const iris = loadDataset('iris', { standardize: false });
    const a = subsample(iris, 20, 3);
    expect(a).toEqual(subsample(iris, 20, 3));
    expect(a.n).toBe(20);
    expect(a.classes).toBe(3);
    expect(Array.from(a.x)).not.toEqual(Array.from(subsample(iris, 20, 4).x));
    // Every picked row is a row of the source with its own label.
    for (let i = 0; i < a.n; i++) {
      const source = Array.from({ length: iris.n }, (_, k) => k).find((k) => row(iris, k).join() === row(a, i).join() && iris.labels![k] === a.labels![i]);
      expect(source).toBeDefined();
      expect(a.targets[i * 3 + a.labels![i]!]).toBe(1);
    }
    expect(subsample(iris, 500, 1)).toBe(iris);
  });

  it('re-encodes labels for more classes', () => {
    const data = parseDataJson({ x: [[1], [2]], y: [0, 1] });
    const wider = withClasses(data, 4);
    expect(wider.classes).toBe(4);
    expect(Array.from(wider.targets)).toEqual([1, 0, 0, 0, 0, 1, 0, 0]);
  });
});

describe('embedded data sets', () => {
  const shapes = { iris: [150, 4, 3], wine: [178, 13, 3], breast_cancer: [569, 30, 2], digits: [1797, 64, 10] } as const;

  it('lists the names', () => {
    expect([...DATASET_NAMES]).toEqual(['iris', 'wine', 'breast_cancer', 'digits']);
    expect(readdirSync(dataDirectory())).toEqual(expect.arrayContaining(['iris.csv', 'README.md']));
  });

  for (const name of DATASET_NAMES) {
    it(`${name} loads with the documented shape and is standardized`, () => {
      const [n, d, classes] = shapes[name];
      const data = loadDataset(name);
      expect(data).toMatchObject({ n, d, classes, name });
      expect(data.labels!.length).toBe(n);
      for (let c = 0; c < classes; c++) expect(data.labels!.includes(c)).toBe(true);
      for (let j = 0; j < d; j++) {
        const { mean, std } = columnStats(data, j);
        expect(Math.abs(mean)).toBeLessThan(1e-9);
        // digits has pixels that are blank in every image: those stay exactly 0.
        if (std !== 0) expect(Math.abs(std - 1)).toBeLessThan(1e-9);
        else expect(name).toBe('digits');
      }
    });
  }

  it('can skip standardization', () => {
    const iris = loadDataset('iris', { standardize: false });
    expect(row(iris, 0)).toEqual([5.1, 3.5, 1.4, 0.2]);
    expect(loadDataset('Breast-Cancer').n).toBe(569);
  });

  it('rejects unknown names, listing the known ones', () => {
    expectError(() => loadDataset('mnist'), 'BAD_OPTION', 'iris, wine, breast_cancer, digits');
  });
});

describe('files', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'hessbound-io-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('reads data files by extension', () => {
    const json = readDataFile(join(fixturesDir, 'iris-tanh-h8.data.json'));
    expect(json).toMatchObject({ n: 150, d: 4, classes: 3, name: 'iris-tanh-h8.data' });
    const csv = readDataFile(join(dataDirectory(), 'wine.csv'));
    expect(csv).toMatchObject({ n: 178, d: 13, name: 'wine' });
    const gz = readDataFile(join(dataDirectory(), 'digits.csv.gz'));
    expect(gz).toMatchObject({ n: 1797, d: 64, classes: 10, name: 'digits' });
  });

  it('reports unreadable files as IO errors with the path and the OS reason', () => {
    const missing = join(tmp, 'nope.csv');
    const err = expectError(() => readDataFile(missing), 'IO', missing);
    expect(err.message).toContain('ENOENT');
    expectError(() => readModelFile(join(tmp, 'nope.json')), 'IO', 'ENOENT');
    expectError(() => readDataFile(join(tmp, 'data.xlsx')), 'IO', 'cannot tell the format');
    writeFileSync(join(tmp, 'broken.csv.gz'), 'not gzip');
    expectError(() => readDataFile(join(tmp, 'broken.csv.gz')), 'IO', 'cannot decompress');
  });

  it('puts the path in front of parse errors and keeps code and hint', () => {
    const path = join(tmp, 'elu.json');
    writeFileSync(path, JSON.stringify({ ...modelToJson(randomModel({ inputs: 2, hidden: [3], classes: 2, activation: 'tanh', seed: 1 })), activation: 'elu' }));
    const err = expectError(() => readModelFile(path), 'BAD_ACTIVATION', `${path}: activation "elu" is not smooth`);
    expect(err.hint).toContain('softplus');
    expect(err.message.match(/hint:/g)).toHaveLength(1);
    const badCsv = join(tmp, 'bad.csv');
    writeFileSync(badCsv, 'a,label\n1,0\nz,1\n');
    expectError(() => readDataFile(badCsv), 'BAD_DATA', `${badCsv}: line 3`);
  });

  it('reads and writes model files', () => {
    const fixture = readModelFile(join(fixturesDir, 'iris-tanh-h8.model.json'));
    expect(fixture.layers).toHaveLength(2);
    const path = join(tmp, 'model.json');
    const model = randomModel({ inputs: 5, hidden: [4, 3], classes: 2, activation: 'gelu', seed: 9, bias: false });
    writeModelFile(path, model);
    expect(readModelFile(path)).toEqual(model);
    expect(parseModelJson(readFileSync(path, 'utf8'))).toEqual(model);
  });
});
