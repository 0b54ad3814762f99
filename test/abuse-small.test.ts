/**
 * Abuse suite, smaller defects (issue 22 item 6): each case printed or returned something wrong, or
 * crashed with a TypeError or a stack trace, before this suite.
 */
import { mkdtempSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { computeDiagnostics } from '../src/analysis/diagnostics.js';
import { eigenvalues, wsBounds } from '../src/curvature.js';
import { parseCsv, standardize, toDataset } from '../src/data.js';
import { parseModelJson, randomModel } from '../src/model.js';
import { MAX_LAYERS } from '../src/resources/layer-limit.js';
import { countRootArrayElements } from '../src/io/json-scan.js';
import { train } from '../src/train.js';
import { BACKENDS } from './helpers/backends.js';
import { runCli } from './helpers/cli.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'hb-small-'));

describe('smaller defects', () => {
  it('a feature of 1e200 standardizes to mean 0 and deviation 1, not to zeros', () => {
    const data = toDataset([[1e200, 1], [-1e200, 2], [3e200, 3], [-2e200, 5]], [0, 1, 0, 1]);
    const x = standardize(data).x;
    const column = [0, 1, 2, 3].map((i) => x[2 * i] as number);
    const mean = column.reduce((a, b) => a + b) / 4;
    const variance = column.reduce((a, b) => a + (b - mean) ** 2, 0) / 4;
    expect(Math.abs(mean)).toBeLessThan(1e-12);
    expect(Math.abs(variance - 1)).toBeLessThan(1e-12);
    // The reference: the same column in units of 1e200.
    const scaled = standardize(toDataset([[1, 1], [-1, 2], [3, 3], [-2, 5]], [0, 1, 0, 1])).x;
    for (let i = 0; i < 8; i++) expect(Math.abs((x[i] as number) - (scaled[i] as number))).toBeLessThan(1e-12);
  });

  it('0x10, 0b1 and 0o7 are not numbers, in options or CSV cells', () => {
    const r = runCli(['analyze', '--dataset', 'iris', '--hidden', '0x10']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--hidden must be a comma-separated list of positive integers/);
    expect(runCli(['sweep', '--dataset', 'iris', '--widths', '2', '--seeds', '0b1', '--out', join(tmp(), 'x.csv')]).status).toBe(2);
    expect(() => parseCsv('a,label\n0x10,0\n1,1\n')).toThrow(/line 2, column 1 \(a\): "0x10" is not a number/);
    expect(() => parseCsv('a,label\n1,0o7\n1,1\n')).toThrow(/the label "0o7" is not an integer/);
  });

  it('a 5 MB CSV field is quoted by its first 40 characters and its length', () => {
    const field = 'z'.repeat(5_000_000);
    let message = '';
    try {
      parseCsv(`a,label\n${field},0\n1,1\n`);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/"z{40}"… \(5,000,000 characters\) is not a number/);
    expect(message.length).toBeLessThan(400);
  });

  it('the parameter norm of 1e300 weights is finite (about 1e300 x sqrt(P))', () => {
    const model = randomModel({ inputs: 2, hidden: [2], classes: 2, activation: 'tanh', seed: 0 });
    for (const layer of model.layers) for (let i = 0; i < layer.weight.length; i++) layer.weight[i] = 1e300;
    const data = toDataset([[1, 0], [0, 1]], [0, 1]);
    const d = computeDiagnostics({ model, data, loss: 1, gradient: new Float64Array(12) });
    const expected = 1e300 * Math.sqrt(8); // eight weights of 1e300, four zero biases
    expect(Math.abs(d.parameterNorm - expected) / expected).toBeLessThan(1e-12);
  });

  it('a 100,000-layer JSON model is refused before its layers are parsed, in time linear in its text', () => {
    // Identity 2x2 layers between a 4-input first layer and a 3-class output: valid in every other way.
    const deepModel = (layers: number) =>
      JSON.stringify({
        format: 'hessbound.mlp.v1',
        activation: 'tanh',
        layers: [
          { weight: [[1, 2, 3, 4], [5, 6, 7, 8]], bias: [0, 0] },
          ...Array.from({ length: layers - 2 }, () => ({ weight: [[1, 0], [0, 1]], bias: [0, 0] })),
          { weight: [[1, 0], [0, 1], [1, 1]], bias: [0, 0, 0] },
        ],
      });
    const refusalMs = (text: string) => {
      const started = performance.now();
      expect(() => parseModelJson(text)).toThrow(/the model has more than 1,000 layers; hessbound takes at most 1,000/);
      return performance.now() - started;
    };
    const small = deepModel(10_000);
    const large = deepModel(100_000);
    // Warm-up, then the best of three each: the ratio follows the text (10x), not its square (100x).
    refusalMs(small);
    const best = (text: string) => Math.min(refusalMs(text), refusalMs(text), refusalMs(text));
    const ratio = best(large) / Math.max(best(small), 1);
    expect(ratio).toBeLessThan(30);
    // A layer damaged past the limit is never looked at: the count is checked first.
    expect(() => parseModelJson(large.replace('{"weight":[[1,0],[0,1]],"bias":[0,0]}]}', '{"weight":"bad"}]}'))).toThrow(/more than 1,000 layers/);
    // At the limit the model is read; one more is refused, as are random models past it.
    expect(parseModelJson(deepModel(MAX_LAYERS)).layers).toHaveLength(MAX_LAYERS);
    expect(() => parseModelJson(deepModel(MAX_LAYERS + 1))).toThrow(/more than 1,000 layers/);
    // The count is that of the root's "layers" (a key of that name elsewhere, or inside strings, is not it).
    expect(countRootArrayElements('{"objective": {"layers": [1, 2, 3]}, "x": "\\"layers\\": [4]", "layers": [{"a": [1, 2]}, "s,t", 3, [4, 5]]}', 'layers', 10)).toBe(4);
    expect(countRootArrayElements('{"layers": []}', 'layers', 10)).toBe(0);
    expect(() => randomModel({ inputs: 4, hidden: Array.from({ length: MAX_LAYERS }, () => 2), classes: 3 })).toThrow(/the model has 1,001 layers; hessbound takes at most 1,000/);
    const path = join(tmp(), 'deep.json');
    writeFileSync(path, large);
    const out = runCli(['analyze', '--model', path, '--dataset', 'iris', '--quiet']);
    expect(out.status).toBe(1);
    expect(out.stderr).toMatch(/\[TOO_LARGE\]: .*deep\.json: the model has more than 1,000 layers; hessbound takes at most 1,000/);
  });

  it('write failures end in an IO error and exit 1, not a stack trace and 70', () => {
    const out = runCli(['train', '--dataset', 'iris', '--hidden', '2', '--max-steps', '5', '--quiet', '--out', '/dev/full']);
    expect(out.status).toBe(1);
    expect(out.stderr).toMatch(/\[IO\]: cannot write \/dev\/full/);
    expect(out.stderr).not.toMatch(/unexpected error|    at /);
  });

  it('the sweep lock is removed when Ctrl-C ends the sweep', async () => {
    const { spawn } = await import('node:child_process');
    const { ROOT } = await import('./helpers/cli.js');
    const csv = join(tmp(), 'locked.csv');
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'sweep', '--dataset', 'digits', '--widths', '16,24', '--seeds', '2', '--grad-tol', '0', '--max-steps', '2000', '--workers', '1', '--quiet', '--out', csv], { cwd: ROOT, stdio: 'ignore' });
    for (let i = 0; i < 600 && !existsSync(`${csv}.lock`); i++) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(`${csv}.lock`)).toBe(true);
    child.kill('SIGINT');
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(130);
    expect(existsSync(`${csv}.lock`)).toBe(false);
  }, 60_000);
});

describe.each(BACKENDS)('API misuse (%s)', (backend) => {
  it('eigenvalues() of a non-symmetric matrix and wsBounds() of impossible traces are refused', async () => {
    await expect(eigenvalues({ rows: 2, cols: 2, data: Float64Array.from([1, 2, 0, 1]) }, { backend })).rejects.toMatchObject({ code: 'BAD_OPTION', message: expect.stringMatching(/not symmetric: entry \(0, 1\) is 2 but \(1, 0\) is 0/) });
    // tr = 10, tr(H^2) = 1 for n = 2: eigenvalues would need l1 + l2 = 10 and l1^2 + l2^2 = 1.
    await expect(wsBounds(10, 1, 2, { backend })).rejects.toMatchObject({ code: 'BAD_OPTION' });
    // Possible ones still work: diag(3, 1).
    expect((await wsBounds(4, 10, 2, { backend })).upper).toBeGreaterThanOrEqual(3 - 1e-12);
  });

  it('a non-function onProgress and a signal that is not an AbortSignal are BAD_OPTION, not TypeErrors', async () => {
    const model = randomModel({ inputs: 4, hidden: [2], classes: 3, activation: 'tanh', seed: 0 });
    const data = toDataset([[1, 2, 3, 4], [2, 1, 0, 1], [0, 0, 1, 1]], [0, 1, 2]);
    await expect(analyze(model, data, { backend, onProgress: 5 as never })).rejects.toMatchObject({ code: 'BAD_OPTION', message: expect.stringMatching(/onProgress must be a function/) });
    await expect(analyze(model, data, { backend, signal: {} as never })).rejects.toMatchObject({ code: 'BAD_OPTION', message: expect.stringMatching(/signal must be an AbortSignal/) });
    await expect(train(model, data, { backend, signal: {} as never })).rejects.toMatchObject({ code: 'BAD_OPTION' });
  });

  it('twenty calls sharing one signal print no MaxListenersExceededWarning', async () => {
    const warnings: string[] = [];
    const listener = (w: Error) => warnings.push(w.name);
    process.on('warning', listener);
    try {
      const controller = new AbortController();
      const model = randomModel({ inputs: 4, hidden: [3], classes: 3, activation: 'tanh', seed: 0 });
      const data = toDataset([[1, 2, 3, 4], [2, 1, 0, 1], [0, 0, 1, 1]], [0, 1, 2]);
      await Promise.all(Array.from({ length: 20 }, () => analyze(model, data, { backend, method: 'dense', signal: controller.signal })));
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      process.off('warning', listener);
    }
    expect(warnings).not.toContain('MaxListenersExceededWarning');
  });
});

describe.each(BACKENDS)('node flags (%s)', (backend) => {
  it('starts under node --expose-gc, --input-type=module -e and a V8 heap flag, with the same result', async () => {
    const { spawnSync } = await import('node:child_process');
    const { ROOT } = await import('./helpers/cli.js');
    const model = randomModel({ inputs: 4, hidden: [3], classes: 3, activation: 'tanh', seed: 0 });
    const data = toDataset([[1, 2, 3, 4], [2, 1, 0, 1], [0, 0, 1, 1], [1, 1, 1, 0]], [0, 1, 2, 0]);
    const expected = (await analyze(model, data, { backend, method: 'dense' })).lambdaMax;
    // Worker threads refuse V8 and per-process flags when given an explicit execArgv (the pthreads'
    // Worker passed one to drop --input-type): "rebuild it", said the error, for a built module.
    const code = `
      const { analyze, randomModel, toDataset } = await import(${JSON.stringify(join(ROOT, 'src/index.ts'))});
      const model = randomModel({ inputs: 4, hidden: [3], classes: 3, activation: 'tanh', seed: 0 });
      const data = toDataset([[1, 2, 3, 4], [2, 1, 0, 1], [0, 0, 1, 1], [1, 1, 1, 0]], [0, 1, 2, 0]);
      const r = await analyze(model, data, { backend: ${JSON.stringify(backend)}, method: 'dense' });
      process.stdout.write(JSON.stringify({ gc: typeof globalThis.gc, lambdaMax: r.lambdaMax }));`;
    // One process with all three (a spawn from source costs seconds on a loaded machine).
    for (const flags of [['--max-old-space-size=3000', '--expose-gc']]) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', ...flags, '--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
      expect(r.status, `${flags.join(' ')}: ${r.stderr}`).toBe(0);
      const out = JSON.parse(r.stdout) as { gc: string; lambdaMax: number };
      expect(out.gc).toBe(flags.includes('--expose-gc') ? 'function' : 'undefined');
      expect(Math.abs(out.lambdaMax - (expected as number))).toBeLessThanOrEqual(1e-12 * Math.abs(expected as number));
    }
  }, 120_000);
});
