/**
 * One rule for every data format in the CLI (issue 21): CSV, JSON, .npz and .npy pairs are all
 * standardized per feature unless --no-standardize, so the same data gives the same lambda_max
 * whatever file it came in; the tables say which was applied.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { standardize } from '../src/data.js';
import { loadDataById, loadTestDataById } from '../src/node/dataset-ids.js';
import { readDataFile } from '../src/node/datasets.js';
import { runCliAsync } from './helpers/cli-async.js';
import { FIXTURE_DIR, loadFixtures, relErr } from './helpers/fixtures.js';

const INTEROP = join(FIXTURE_DIR, 'interop');
const dir = mkdtempSync(join(tmpdir(), 'hessbound-standardize-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fixture = loadFixtures().find((f) => f.name === 'iris-tanh-h8')!;
const model = join(FIXTURE_DIR, 'iris-tanh-h8.model.json');
// The fixture's data (the same values as interop/iris.npz) as JSON and as CSV.
const json = join(FIXTURE_DIR, 'iris-tanh-h8.data.json');
const { x, y } = JSON.parse(readFileSync(json, 'utf8')) as { x: number[][]; y: number[] };
const csv = join(dir, 'iris.csv');
writeFileSync(csv, ['a,b,c,d,label', ...x.map((row, i) => `${row.map(String).join(',')},${y[i]}`)].join('\n') + '\n');
const npz = join(INTEROP, 'iris.npz');

async function analyzed(data: string[], extra: string[] = []): Promise<{ loss: number; lambdaMax: number }> {
  const r = await runCliAsync(['analyze', '--model', model, ...data, '--method', 'dense', '--json', '--quiet', ...extra]);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { loss: number; lambdaMax: number };
}

describe('every data format is standardized by the same rule', () => {
  it('.csv, .json and .npz give the same lambda_max, standardized by default and raw with --no-standardize', async () => {
    const standardized = [];
    const raw = [];
    for (const file of [csv, json, npz]) {
      standardized.push(await analyzed(['--data', file]));
      raw.push(await analyzed(['--data', file], ['--no-standardize']));
    }
    for (const r of [...standardized.slice(1)]) expect(relErr(r.lambdaMax, standardized[0]!.lambdaMax)).toBeLessThan(1e-12);
    for (const r of raw) expect(relErr(r.lambdaMax, fixture.expected.lambdaMax)).toBeLessThan(1e-9);
    // The fixture's features have sample (n - 1) deviations of 1: standardizing them is visible.
    expect(relErr(standardized[0]!.lambdaMax, raw[0]!.lambdaMax)).toBeGreaterThan(1e-4);
    // float32 .npy features: the same rule, equal to rounding.
    const npy = await analyzed(['--data-x', join(INTEROP, 'iris.x.f32-fortran.npy'), '--data-y', join(INTEROP, 'iris.y.i32.npy')]);
    expect(relErr(npy.lambdaMax, standardized[0]!.lambdaMax)).toBeLessThan(1e-5);
  }, 300_000);

  it('the analyze and bound tables say which was applied', async () => {
    const a = await runCliAsync(['analyze', '--model', model, '--data', npz, '--quiet']);
    expect(a.stdout).toMatch(/model \/ data .*iris\.npz \(standardized features\)/);
    const b = await runCliAsync(['bound', '--model', model, '--data', npz, '--no-standardize', '--quiet']);
    expect(b.stdout).toMatch(/samples\s+150 \(raw features\)/);
  }, 300_000);

  it('sweeps read file: data set ids by the same rule (JSON and .npz too), test files with the training statistics', () => {
    for (const file of [json, csv, npz]) expect(loadDataById(`file:${file}`).x).toEqual(standardize(readDataFile(file)).x);
    const test = loadTestDataById(`file:${npz}`, `file:${json}`);
    expect(test.x).toEqual(standardize(readDataFile(json)).x);
  });
});
