/** One CSV reader for every CSV path: RFC 4180 fields, strict header, integer labels, encodings, size limit. */
import { closeSync, copyFileSync, mkdtempSync, openSync, readFileSync, writeFileSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseCsv, parseDataJson } from '../src/data.js';
import { parseModelJson } from '../src/model.js';
import { readDataFile } from '../src/node/datasets.js';
import { ROOT } from './helpers/cli.js';
import { runCliAsync } from './helpers/cli-async.js';
import { expectError } from './helpers/expect.js';

const dir = mkdtempSync(join(tmpdir(), 'hessbound-csv-'));

describe('CSV fields and header', () => {
  it('reads quoted fields with the delimiter inside (RFC 4180)', async () => {
    const data = parseCsv('"a,1","b ""x""",label\n"3.5","4",0\n1,2,1\n');
    expect(Array.from(data.x)).toEqual([3.5, 4, 1, 2]);
    expectError(() => parseCsv('a,b,label\n"3,5",4,0\n'), 'BAD_DATA', 'line 2, column 1 (a): "3,5" is not a number');
  });
  it('refuses a numeric first line unless told there is no header', async () => {
    expectError(() => parseCsv('1,2,0\n3,4,1\n'), 'BAD_DATA', 'line 1 holds only numbers');
    const e = expectError(() => parseCsv('1,2,0\n3,4,1\n'), 'BAD_DATA', 'first line must be the header');
    expect(e.hint).toContain('--no-header');
    expect(parseCsv('1,2,0\n3,4,1\n', { header: false }).n).toBe(2);
  });
  it('names an unclosed quote', () => expectError(() => parseCsv('a,b,label\n"1,2,0\n'), 'BAD_DATA', 'malformed'));
  it('never wraps a huge label through 32-bit integers', async () => {
    expectError(() => parseCsv('a,label\n1,0\n2,4294967297\n'), 'BAD_LABELS', 'line 3: the label is 4294967297; at most 100000 classes');
  });
});

describe('class-count guard', () => {
  const rows = Array.from({ length: 150 }, (_, i) => `${i / 10},${i % 3}`);
  it('names the line and value of one stray label', async () => {
    rows[120] = '12,99999';
    const e = expectError(() => parseCsv(`f,label\n${rows.join('\n')}\n`), 'BAD_LABELS', 'line 122: the label is 99999, which implies 100000 classes for only 4 distinct labels');
    expect(e.hint).toMatch(/classes/);
  });
  it('names the index in JSON data, and accepts an explicit class count', async () => {
    const y = Array.from({ length: 20 }, (_, i) => i % 2);
    y[7] = 500;
    const x = y.map((_, i) => [i]);
    expectError(() => parseDataJson({ x, y }), 'BAD_LABELS', 'label 7 is 500, which implies 501 classes');
    expect(parseDataJson({ x, y, classes: 501 }).classes).toBe(501);
  });
  it('takes --classes and --no-header in the CLI', async () => {
    const file = join(dir, 'stray.csv');
    writeFileSync(file, `f0,label\n${Array.from({ length: 30 }, (_, i) => `${i},${i === 29 ? 40 : i % 2}`).join('\n')}\n`);
    const refused = await runCliAsync(['analyze', '--data', file, '--hidden', '2', '--json', '--quiet']);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/line 31: the label is 40, which implies 41 classes/);
    const stated = await runCliAsync(['analyze', '--data', file, '--classes', '41', '--hidden', '2', '--json', '--quiet']);
    expect(stated.status).toBe(0);
    expect((JSON.parse(stated.stdout) as { parameters: number }).parameters).toBe(2 * 2 + 2 * 41 + 41);
    const headerless = join(dir, 'headerless.csv');
    writeFileSync(headerless, '1,2,0\n3,4,1\n5,5,1\n');
    expect((await runCliAsync(['analyze', '--data', headerless, '--hidden', '2', '--quiet'])).stderr).toMatch(/--no-header/);
    expect((await runCliAsync(['analyze', '--data', headerless, '--no-header', '--hidden', '2', '--json', '--quiet'])).status).toBe(0);
  });
  it('keeps subsets that simply lack some classes', async () => {
    expect(parseDataJson({ x: [[1], [2], [3]], y: [0, 9, 3] }).classes).toBe(10);
  });
});

describe('encodings and files', () => {
  const csv = 'f0,f1,label\n1,2,0\n3,5,1\n4,4,1\n';
  it('reads UTF-8 with a BOM and UTF-16 with a BOM; names UTF-16 without one', async () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(csv, 'utf16le')]);
    writeFileSync(join(dir, 'u16.csv'), utf16);
    writeFileSync(join(dir, 'bom.csv'), `\uFEFF${csv}`);
    expect(Array.from(readDataFile(join(dir, 'u16.csv')).x)).toEqual([1, 2, 3, 5, 4, 4]);
    expect(readDataFile(join(dir, 'bom.csv')).n).toBe(3);
    writeFileSync(join(dir, 'nobom.csv'), Buffer.from(csv, 'utf16le'));
    expectError(() => readDataFile(join(dir, 'nobom.csv')), 'BAD_DATA', 'UTF-16 without a byte-order mark');
  });
  it('reads JSON with a BOM', async () => {
    expect(parseDataJson('\uFEFF{"x": [[1], [2]], "y": [0, 1]}').n).toBe(2);
    expect(() => parseModelJson('\uFEFF{"format": "hessbound.mlp.v1"}')).toThrow(/activation/);
  });
  it('a 600 MB file of NUL bytes is refused from its first bytes (large CSVs are read in chunks, not whole)', async () => {
    const path = join(dir, 'huge.csv');
    const fd = openSync(path, 'w');
    ftruncateSync(fd, 600 * 1024 * 1024); // sparse: no disk used
    closeSync(fd);
    const started = Date.now();
    expectError(() => readDataFile(path), 'BAD_DATA', 'contains NUL bytes');
    expect(Date.now() - started).toBeLessThan(2000);
  });
  it('refuses a JSON file too large to read whole, before reading it', async () => {
    const path = join(dir, 'huge.json');
    const fd = openSync(path, 'w');
    ftruncateSync(fd, 600 * 1024 * 1024);
    closeSync(fd);
    const e = expectError(() => readDataFile(path), 'TOO_LARGE', 'reads text data whole');
    expect(e.hint).toMatch(/subsample|binary/);
  });
  it('standardizes .csv, .CSV and .csv.gz alike in the CLI', async () => {
    const iris = readFileSync(join(ROOT, 'data', 'iris.csv'));
    copyFileSync(join(ROOT, 'data', 'iris.csv'), join(dir, 'a.csv'));
    writeFileSync(join(dir, 'b.CSV'), iris);
    writeFileSync(join(dir, 'c.csv.gz'), gzipSync(iris));
    const loss = async (file: string) => {
      const r = await runCliAsync(['analyze', '--data', join(dir, file), '--hidden', '8', '--method', 'dense', '--json', '--quiet']);
      expect(r.status).toBe(0);
      return (JSON.parse(r.stdout) as { loss: number }).loss;
    };
    const reference = await runCliAsync(['analyze', '--dataset', 'iris', '--hidden', '8', '--method', 'dense', '--json', '--quiet']);
    const expected = (JSON.parse(reference.stdout) as { loss: number }).loss;
    expect([await loss('a.csv'), await loss('b.CSV'), await loss('c.csv.gz')]).toEqual([expected, expected, expected]);
  });
});
