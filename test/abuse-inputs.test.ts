/**
 * Abuse suite, inputs (issue 22 items 2 and 3): small files that expand to gigabytes, devices and
 * pipes given as files, and specs whose memory the old guard under-counted. Each runs the real CLI
 * in a child process with HESSBOUND_MAX_MEMORY=4 (a 4 GB machine) and checks the refusal and the
 * process's peak RSS (under 200 MB). Backend-independent: everything is refused before a kernel call.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';
import { aliasingSafetensors, gzipOneMember, gzipRepeated, maxRssMb, withMaxRss, zerosNpy, zipDeflated } from './helpers/abuse.js';

const dir = mkdtempSync(join(tmpdir(), 'hb-bombs-'));
const PEAK_MB = 200;

/** Runs the CLI; the result with its peak RSS and wall time. */
function cli(args: string[], timeoutMs = 60_000, budgetGb = '4'): { status: number | null; stderr: string; stdout: string; mb: number; ms: number } {
  const start = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...withMaxRss({ HESSBOUND_MAX_MEMORY: budgetGb, HESSBOUND_BACKEND: 'native' }) },
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, mb: maxRssMb(r.stderr), ms: Date.now() - start };
}

/** A .npy file: float64 C-order `values` of `shape` (header padded to 64 bytes, as numpy writes it). */
function npy(shape: number[], values: ArrayLike<number>, dtype = '<f8'): Uint8Array {
  let header = `{'descr': '${dtype}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const out = new Uint8Array(10 + header.length + 8 * values.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  const view = new DataView(out.buffer, 10 + header.length);
  for (let i = 0; i < values.length; i++) view.setFloat64(8 * i, values[i] as number, true);
  return out;
}

const iris = (() => {
  const n = 30;
  const x = Array.from({ length: n * 4 }, (_, i) => Math.sin(i * 1.3));
  const y = Array.from({ length: n }, (_, i) => i % 3);
  return { x: npy([n, 4], x), y: npy([n], y) };
})();

describe('input bombs are refused (or read only as far as needed) within 200 MB', () => {
  it('an .npz with a 300 MB member it does not need: that member is never inflated', () => {
    const path = join(dir, 'extra.npz');
    writeFileSync(path, zipDeflated({ 'x.npy': iris.x, 'y.npy': iris.y, 'junk.npy': zerosNpy(300e6) }));
    const r = cli(['analyze', '--data', path, '--hidden', '3', '--json', '--quiet', '--method', 'dense']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.mb).toBeLessThan(PEAK_MB);
  });

  it('an .npz whose x declares 1 GB (a zip bomb of a few MB): refused before inflating, with the numbers', () => {
    const path = join(dir, 'bomb.npz');
    writeFileSync(path, zipDeflated({ 'x.npy': zerosNpy(1e9), 'y.npy': iris.y }));
    const r = cli(['analyze', '--data', path, '--hidden', '3', '--quiet']);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/\[TOO_LARGE\].*the \.npz member x\.npy declares 1\.00 GB .*more than available memory allows \(4\.00 GB\)/);
    expect(r.mb).toBeLessThan(PEAK_MB);
  });

  it('a safetensors file whose tensors all alias one data range: refused as overlapping, before decoding', () => {
    const path = join(dir, 'alias.safetensors');
    writeFileSync(path, aliasingSafetensors(1000, 200_000, { activation: 'tanh' }));
    const r = cli(['analyze', '--model', path, '--dataset', 'iris', '--quiet']);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/\[BAD_MODEL\].*tensors "t\d+" \[0, 800000\] and "t\d+" \[0, 800000\] overlap/);
    expect(r.mb).toBeLessThan(PEAK_MB);
  });

  it('.csv.gz bombs (numeric rows, one endless line, quoted rows): refused while they stream, never held', async () => {
    // 1.2 GB of numeric rows in 300 kB: counted as they stream, refused once the rows exceed the
    // budget (1 GB here, so after about 250 MB of text: the test stays short).
    const rows = join(dir, 'rows.csv.gz');
    const row = `${Array.from({ length: 1000 }, () => '0').join(',')}\n`;
    writeFileSync(rows, gzipRepeated(`${Array.from({ length: 1000 }, (_, j) => `f${j}`).join(',')}\n`, row.repeat(4000), 1.2e9));
    // 300 MB without a line break, one gzip member.
    const line = join(dir, 'line.csv.gz');
    writeFileSync(line, await gzipOneMember('a,label\n', '1111111111', 300e6));
    // 500 MB of quoted rows: the in-memory (RFC 4180) reader's case, refused by its decompressed size.
    const quoted = join(dir, 'quoted.csv.gz');
    writeFileSync(quoted, gzipRepeated('"a","label"\n', '"1","0"\n'.repeat(500_000), 500e6));
    for (const [path, what] of [
      [rows, /\[TOO_LARGE\].*rows\.csv\.gz holds at least [\d,]+ x 999 values: .* as float64, more than available memory allows \(1\.00 GB\)/],
      [line, /\[BAD_DATA\].*line 2 is longer than 16\.8 MB \(no line break\)/],
      [quoted, /\[TOO_LARGE\].*quoted\.csv\.gz decompresses to more than 64 MB of text; hessbound reads quoted or UTF-16 CSV text from a \.gz whole/],
    ] as const) {
      const r = cli(['analyze', '--data', path, '--hidden', '3', '--quiet'], 120_000, path === rows ? '1' : '4');
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toMatch(what);
      expect(r.mb, `${path}: peak RSS`).toBeLessThan(PEAK_MB);
    }
  }, 180_000);

  it('devices and pipes as files: /dev/zero as a model, a .csv symlink to /dev/zero, a FIFO as data — refused at once', () => {
    const link = join(dir, 'zero.csv');
    symlinkSync('/dev/zero', link);
    const fifo = join(dir, 'pipe.csv');
    execFileSync('mkfifo', [fifo]);
    for (const [args, what] of [
      [['analyze', '--model', '/dev/zero', '--dataset', 'iris'], /\/dev\/zero is a character device; hessbound reads data and models from regular files only/],
      [['analyze', '--data', link, '--hidden', '3'], /zero\.csv is a character device/],
      [['analyze', '--data', fifo, '--hidden', '3'], /pipe\.csv is a named pipe \(FIFO\)/],
      [['sweep', '--data', fifo, '--widths', '2', '--seeds', '1', '--out', join(dir, 'fifo.csv')], /pipe\.csv is a named pipe \(FIFO\)/],
    ] as const) {
      const r = cli([...args, '--quiet'], 15_000);
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toMatch(what);
      expect(r.ms).toBeLessThan(10_000);
      expect(r.mb).toBeLessThan(PEAK_MB);
    }
  });

  it('specs the old guard under-counted: sweep --widths 30000 --depths 3, analyze --hidden 1000000,1000, --hidden 1000000', () => {
    for (const args of [
      ['sweep', '--dataset', 'iris', '--widths', '30000', '--depths', '3', '--seeds', '1', '--out', join(dir, 'wide.csv')],
      ['analyze', '--dataset', 'iris', '--hidden', '1000000,1000'],
      ['analyze', '--dataset', 'iris', '--hidden', '1000000'],
      ['train', '--dataset', 'iris', '--hidden', '1000000', '--out', join(dir, 'm.json')],
    ]) {
      const r = cli([...args, '--quiet']);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(1);
      expect(r.stderr).toMatch(/\[TOO_LARGE\].*more than available memory allows \(4\.00 GB\)/);
      expect(r.mb).toBeLessThan(PEAK_MB);
    }
  });
});
