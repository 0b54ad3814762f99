/**
 * The chunked CSV reader (files above 400 MB; issue 25 item 6) against the in-memory one, on small
 * files read in chunks of a few bytes (every line crosses chunk boundaries): the same data set, bit
 * for bit, and the same errors; and its memory plan.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCsv } from '../src/data.js';
import { setPlatformMemoryBudget } from '../src/memory.js';
import { CHUNKED_CSV_BYTES, readDataFile } from '../src/node/datasets.js';
import { readLargeCsv } from '../src/node/large-csv.js';

const dir = mkdtempSync(join(tmpdir(), 'hb-large-csv-'));
let count = 0;
const file = (text: string) => {
  const path = join(dir, `f${count++}.csv`);
  writeFileSync(path, text);
  return path;
};

const message = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
};

describe('chunked CSV reader', () => {
  afterEach(() => setPlatformMemoryBudget(() => Number.POSITIVE_INFINITY));

  const rows = Array.from({ length: 57 }, (_, i) => `${Math.sin(i) * 1e3},${-i / 7},${i % 5 === 0 ? '1e-300' : String(i * 0.125)},${i % 4}`);
  const cases: [string, string, { header?: boolean; classes?: number }][] = [
    ['plain', `a,b,c,label\n${rows.join('\n')}\n`, {}],
    ['CRLF, BOM, no final newline, blank lines', `\uFEFFa,b,c,label\r\n${rows.slice(0, 20).join('\r\n')}\r\n\r\n${rows.slice(20).join('\r\n')}`, {}],
    ['tab-separated, spaces around values', `a\tb\tc\tlabel\n${rows.map((r) => r.split(',').map((v) => ` ${v} `).join('\t')).join('\n')}\n`, {}],
    ['no header, classes given', `${rows.join('\n')}\n`, { header: false, classes: 6 }],
  ];
  for (const [name, text, opts] of cases)
    it(`${name}: the same data set as the in-memory reader, bit for bit`, () => {
      const path = file(text);
      for (const chunk of [3, 7, 64, 1 << 20]) {
        const streamed = readLargeCsv(path, { name: 'x', ...opts }, chunk);
        const reference = parseCsv(text, { name: 'x', ...opts });
        expect([streamed.n, streamed.d, streamed.classes]).toEqual([reference.n, reference.d, reference.classes]);
        expect(Array.from(streamed.x)).toEqual(Array.from(reference.x));
        expect(Array.from(streamed.labels ?? [])).toEqual(Array.from(reference.labels ?? []));
        expect(Array.from(streamed.targets)).toEqual(Array.from(reference.targets));
      }
      // Gzipped, in one member and in two split mid-line: decompressed as it streams, the same data set.
      const bytes = Buffer.from(text);
      const cut = Math.floor(bytes.length / 3);
      for (const gz of [gzipSync(bytes), Buffer.concat([gzipSync(bytes.subarray(0, cut)), gzipSync(bytes.subarray(cut))])]) {
        const gzPath = `${file('')}.gz`;
        writeFileSync(gzPath, gz);
        const streamed = readLargeCsv(gzPath, { name: 'x', ...opts });
        const reference = parseCsv(text, { name: 'x', ...opts });
        expect(Array.from(streamed.x)).toEqual(Array.from(reference.x));
        expect(Array.from(streamed.targets)).toEqual(Array.from(reference.targets));
      }
    });

  it('a .csv.gz that decompresses to more than 16 MB is parsed as it streams: the same data set as its plain file', () => {
    const text = `a,b,label\n${Array.from({ length: 700_000 }, (_, i) => `${i / 3},${-i},${i % 3}`).join('\n')}\n`;
    expect(text.length).toBeGreaterThan(CHUNKED_CSV_BYTES);
    const plain = file(text);
    writeFileSync(`${plain}.gz`, gzipSync(text, { level: 1 }));
    const fromGz = readDataFile(`${plain}.gz`);
    const fromPlain = readDataFile(plain);
    expect([fromGz.n, fromGz.d, fromGz.classes]).toEqual([700_000, 2, 3]);
    expect(fromGz.x.every((v, k) => v === fromPlain.x[k])).toBe(true);
    expect(Array.from(fromGz.targets.subarray(0, 30))).toEqual(Array.from(fromPlain.targets.subarray(0, 30)));
    // A truncated archive is an IO error, not a partial data set.
    const gz = gzipSync(text, { level: 1 });
    const cutPath = join(dir, 'cut.csv.gz');
    writeFileSync(cutPath, gz.subarray(0, gz.length - 100));
    expect(message(() => readDataFile(cutPath))).toMatch(/cannot decompress/);
  }, 60_000);

  it('the same errors as the in-memory reader, with line numbers', () => {
    for (const text of ['a,b,label\n1,2,0\n3,x,1\n', 'a,b,label\n1,2,0\n3,1\n', '1,2,0\n3,4,1\n', 'a,b,label\n1,2,0.5\n', 'a,b,label\n1,0x10,1\n', 'a,b,label\n']) {
      const path = file(text);
      // The same message; the hints differ where quoting is concerned (the chunked reader takes no quotes).
      expect(message(() => readLargeCsv(path, {}, 5)).split('\n')[0]).toBe(message(() => parseCsv(text)).split('\n')[0]);
    }
    expect(message(() => readLargeCsv(file('a,b,label\n"1",2,0\n'), {}, 5))).toMatch(/line 2 has a quoted field; CSV files above 400 MB are read as plain numeric CSV/);
  });

  it('a matrix larger than the memory is refused with the numbers before it is allocated', () => {
    const path = file(`a,b,label\n${Array.from({ length: 1000 }, (_, i) => `${i},${-i},${i % 2}`).join('\n')}\n`);
    setPlatformMemoryBudget(() => 20_000);
    // Refused as soon as the rows counted so far exceed the budget (the rest is never read).
    expect(message(() => readLargeCsv(path))).toMatch(/holds at least 626 x 2 values: 21 kB as float64, more than available memory allows \(20 kB\)/);
  });

  it('readDataFile takes the chunked reader above 16 MB (same data as in memory), and the RFC 4180 reader for a quoted file', () => {
    const line = (i: number) => `${Array.from({ length: 40 }, (_, j) => String(((i * 31 + j * 17) % 1024) / 256 - 2)).join(',')},${i % 3}`;
    const header = `${Array.from({ length: 40 }, (_, j) => `f${j}`).join(',')},label`;
    const lines: string[] = [header];
    for (let i = 0, length = header.length; length < CHUNKED_CSV_BYTES + 1e6; i++) {
      lines.push(line(i));
      length += (lines.at(-1) as string).length + 1;
    }
    const text = `${lines.join('\n')}\n`;
    const path = file(text);
    const streamed = readDataFile(path);
    const reference = parseCsv(text, { name: 'x' });
    expect([streamed.n, streamed.d]).toEqual([reference.n, reference.d]);
    expect(streamed.x.every((v, k) => v === reference.x[k])).toBe(true);
    // Quoted header: the in-memory reader, same result.
    const quotedText = text.replace('f0', '"f0"');
    const quoted = readDataFile(file(quotedText));
    expect(quoted.x.every((v, k) => v === reference.x[k])).toBe(true);
  }, 60_000);

  it('a line longer than 16 MB is refused without holding it', () => {
    const path = file(`a,label\n${'1'.repeat(20 * 1024 * 1024)}`);
    expect(message(() => readLargeCsv(path, {}, 8 * 1024 * 1024))).toMatch(/line 2 is longer than 16\.8 MB \(no line break\)/);
  });
});
