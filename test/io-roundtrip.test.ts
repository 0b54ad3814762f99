/**
 * train -> .safetensors -> load gives identical parameters (API and CLI), PyTorch loads the file
 * into nn.Sequential with strict=True and computes the same loss (1e-12), and the CLI takes every
 * new format: --model .safetensors/.onnx, --data .npz, --data-x/--data-y .npy.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { parseModel } from '../src/io/model-source.js';
import { modelToSafetensors } from '../src/io/safetensors.js';
import { flattenParams, randomModel } from '../src/model.js';
import { loadDataset, readModelFile, writeModelFile } from '../src/node/datasets.js';
import { train } from '../src/train.js';
import { BACKENDS } from './helpers/backends.js';
import { ROOT } from './helpers/cli.js';
import { FIXTURE_DIR, loadFixtures, relErr } from './helpers/fixtures.js';

const INTEROP = join(FIXTURE_DIR, 'interop');

interface Run { status: number; stdout: string; stderr: string }

/** Runs a program without blocking the test worker (a blocked worker misses vitest's RPC deadlines). */
function run(command: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: ROOT, encoding: 'utf8', timeout: 180_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const status = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ status, stdout, stderr });
    });
  });
}

/** hessbound from source (tsx), as test/helpers/cli.ts runs it, but asynchronously. */
const runCli = (args: string[]): Promise<Run> => run(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args]);

const tmp = mkdtempSync(join(tmpdir(), 'hessbound-formats-'));

describe.each(BACKENDS)('round trip on the %s backend', (backend) => {
  it('train -> .safetensors -> load again gives identical parameters', async () => {
    const data = loadDataset('iris');
    const start = randomModel({ inputs: data.d, hidden: [5], classes: data.classes, activation: 'gelu', seed: 3 });
    const trained = await train(start, data, { backend, maxSteps: 60 });
    const path = join(tmp, `trained-${backend}.safetensors`);
    writeModelFile(path, trained.model);
    const back = readModelFile(path);
    expect(back.activation).toBe('gelu');
    expect(flattenParams(back)).toEqual(flattenParams(trained.model));
    expect(Buffer.from(readFileSync(path)).equals(Buffer.from(modelToSafetensors(trained.model)))).toBe(true);
  });
});

/**
 * A Python with torch: $HESSBOUND_PYTHON, else python3 on the PATH, else Debian's /usr/bin/python3
 * (python3-torch; a pyenv python3 earlier on the PATH does not see it).
 */
const TORCH_PYTHON = [process.env['HESSBOUND_PYTHON'], 'python3', '/usr/bin/python3']
  .filter((p): p is string => Boolean(p))
  .find((p) => spawnSync(p, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0);

// Runs where python3-torch is installed (not by scripts/setup.sh: the install takes ~10 minutes).
describe.runIf(TORCH_PYTHON !== undefined)('PyTorch loads what hessbound writes', () => {
  it.each(['tanh', 'silu', 'identity', 'relu', 'leaky_relu'] as const)('nn.Sequential(...).load_state_dict(strict=True) and the same loss (%s)', async (activation) => {
    const fixture = loadFixtures().find((f) => f.name === 'iris-tanh-h8')!;
    const slope = activation === 'leaky_relu' ? { negativeSlope: 0.3 } : {};
    const model = randomModel({ inputs: 4, hidden: [6, 5], classes: 3, activation, ...slope, seed: 11, bias: activation !== 'silu' });
    const path = join(tmp, `strict-${activation}.safetensors`);
    writeModelFile(path, model);
    const r = await run(TORCH_PYTHON!, [join(INTEROP, 'torch_load_check.py'), path, join(FIXTURE_DIR, `${fixture.name}.data.json`)]);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { loss: number; missing: string[]; unexpected: string[]; modules: string[]; negativeSlopes: number[] };
    expect(out.negativeSlopes).toEqual(activation === 'leaky_relu' ? [0.3, 0.3] : []);
    expect(out.missing).toEqual([]);
    expect(out.unexpected).toEqual([]);
    expect(out.modules).toHaveLength(5);
    const ours = await analyze(model, fixture.data, { method: 'dense', k: 1 });
    expect(relErr(ours.loss, out.loss)).toBeLessThan(1e-12);
  });
});

describe('the CLI reads and writes the formats', () => {
  it('train --out .safetensors, then analyze --model .safetensors', async () => {
    const out = join(tmp, 'cli.safetensors');
    const t = await runCli(['train', '--dataset', 'iris', '--hidden', '4', '--activation', 'softplus', '--max-steps', '40', '--out', out, '--json', '--quiet']);
    expect(t.stderr).toBe('');
    expect(t.status).toBe(0);
    const model = parseModel(readFileSync(out));
    expect(model.activation).toBe('softplus');
    const a = await runCli(['analyze', '--model', out, '--dataset', 'iris', '--method', 'dense', '--json']);
    expect(a.status, a.stderr).toBe(0);
    expect((JSON.parse(a.stdout) as { parameters: number }).parameters).toBe(4 * 4 + 4 + 4 * 3 + 3);
  }, 300_000);

  it('--model .onnx with --data .npz, and --data-x/--data-y .npy, reproduce the fixture', async () => {
    const fixture = loadFixtures().find((f) => f.name === 'iris-tanh-h8')!;
    for (const data of [['--data', join(INTEROP, 'iris.npz')], ['--data-x', join(INTEROP, 'iris.x.f32-fortran.npy'), '--data-y', join(INTEROP, 'iris.y.i32.npy')]]) {
      const r = await runCli(['analyze', '--model', join(INTEROP, 'iris-tanh-h8.sequential.f64.onnx'), ...data, '--no-standardize', '--method', 'dense', '--json']);
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as { loss: number; lambdaMax: number };
      if (data[0] === '--data') {
        expect(relErr(out.loss, fixture.expected.loss)).toBeLessThan(1e-9);
        expect(relErr(out.lambdaMax, fixture.expected.lambdaMax)).toBeLessThan(1e-9);
      } else {
        expect(relErr(out.loss, fixture.expected.loss)).toBeLessThan(1e-6); // float32 features
      }
    }
  }, 300_000);

  it('--activation and --layer-order reach safetensors files; errors name the file and the fix', async () => {
    const silu = join(INTEROP, 'synth-silu-h4x3x3-nobias.named.f64.safetensors');
    const data = join(FIXTURE_DIR, 'synth-silu-h4x3x3-nobias.data.json');
    const ambiguous = await runCli(['analyze', '--model', silu, '--data', data]);
    expect(ambiguous.status).not.toBe(0);
    expect(ambiguous.stderr).toContain(silu);
    expect(ambiguous.stderr).toMatch(/ambiguous[\s\S]*hint: .*--layer-order fc1,fc2,fc3,head/);
    const ordered = await runCli(['analyze', '--model', silu, '--data', data, '--layer-order', 'fc1,fc2,fc3,head', '--json', '--method', 'dense', '--no-standardize']);
    expect(ordered.status, ordered.stderr).toBe(0);
    const expected = loadFixtures().find((f) => f.name === 'synth-silu-h4x3x3-nobias')!.expected;
    expect(relErr((JSON.parse(ordered.stdout) as { loss: number }).loss, expected.loss)).toBeLessThan(1e-9);

    const gelu = join(INTEROP, 'synth-gelu-h7-soft.nested.f32.safetensors');
    const geluData = join(FIXTURE_DIR, 'synth-gelu-h7-soft.data.json');
    const missing = await runCli(['analyze', '--model', gelu, '--data', geluData]);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/does not say which activation[\s\S]*hint: pass it: --activation/);
    expect((await runCli(['analyze', '--model', gelu, '--data', geluData, '--activation', 'gelu', '--json'])).status).toBe(0);
  }, 300_000);

  it('data whose width does not match the model, and labels outside its classes', async () => {
    const model = join(INTEROP, 'iris-tanh-h8.sequential.f32.safetensors');
    const wide = join(tmp, 'wide.json');
    writeFileSync(wide, JSON.stringify({ x: [[1, 2, 3, 4, 5], [0, 1, 0, 1, 0]], y: [0, 1] }));
    const width = await runCli(['analyze', '--model', model, '--data', wide]);
    expect(width.status).not.toBe(0);
    expect(width.stderr).toMatch(/SHAPE_MISMATCH.*4 input features but the data has 5/);
    const labels = join(tmp, 'labels.json');
    writeFileSync(labels, JSON.stringify({ x: [[1, 2, 3, 4], [0, 1, 0, 1]], y: [0, 5] }));
    const outside = await runCli(['analyze', '--model', model, '--data', labels]);
    expect(outside.status).not.toBe(0);
    expect(outside.stderr).toMatch(/label 5 .* out of range for a model with 3 outputs|3 outputs but the data has 6 classes/);
  }, 300_000);
});
