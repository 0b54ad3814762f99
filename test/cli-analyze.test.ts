/** hessbound analyze as a user runs it: JSON contract, table, and clear errors with non-zero exit codes. */
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BACKENDS } from './helpers/backends.js';
import { runCli } from './helpers/cli.js';
import { FIXTURE_DIR, loadFixtures, relErr } from './helpers/fixtures.js';

const CONTRACT_KEYS = ['backend', 'parameters', 'samples', 'loss', 'gradNorm', 'trace', 'traceOfSquare', 'lambdaMax', 'lambdaMin', 'bound', 'seconds'];

describe.each(BACKENDS)('hessbound analyze --backend %s', (backend) => {
  const fixture = loadFixtures().find((f) => f.name === 'wine-softplus-h5x4-sum')!;

  it('prints the JSON contract and reproduces a fixture', () => {
    const r = runCli([
      'analyze', '--model', join(FIXTURE_DIR, `${fixture.name}.model.json`), '--data', join(FIXTURE_DIR, `${fixture.name}.data.json`),
      '--reduction', 'sum', '--method', 'dense', '--backend', backend, '--json', '--no-standardize',
    ]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown> & { bound: Record<string, number> };
    for (const key of CONTRACT_KEYS) expect(out).toHaveProperty(key);
    expect(Object.keys(out.bound).sort()).toEqual(['lowerOfMax', 'lowerOfMin', 'spread', 'upper', 'upperOfMin']);
    expect(out['backend']).toBe(backend);
    for (const key of ['loss', 'gradNorm', 'trace', 'traceOfSquare', 'lambdaMax', 'lambdaMin'] as const)
      expect(relErr(out[key] as number, fixture.expected[key])).toBeLessThan(1e-9);
    expect(relErr(out.bound['upper']!, fixture.expected.bound.upper)).toBeLessThan(1e-9);
  });

  it('prints a readable table for a random model on an embedded data set', () => {
    const r = runCli(['analyze', '--dataset', 'iris', '--hidden', '8', '--activation', 'gelu', '--seed', '3', '--backend', backend]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/lambda_max \(exact\)\s+\d/);
    expect(r.stdout).toMatch(/WS upper bound\s+\d.*bound \/ lambda_max/);
    expect(r.stdout).toContain(`backend                ${backend}`);
  });
});

describe('hessbound analyze errors', () => {
  it('refuses a dense Hessian that does not fit and suggests --method lanczos', () => {
    const r = runCli(['analyze', '--dataset', 'digits', '--hidden', '1024', '--method', 'dense']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/76,810 parameters needs 51\.9 GB/);
    expect(r.stderr).toMatch(/--method lanczos/);
  });
  it('names an unreadable file', () => {
    const r = runCli(['analyze', '--model', '/nonexistent/model.json', '--dataset', 'iris']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/\[IO\].*\/nonexistent\/model\.json/);
  });
  it('names a model/data shape mismatch', () => {
    const r = runCli(['analyze', '--model', join(FIXTURE_DIR, 'iris-tanh-h8.model.json'), '--dataset', 'wine']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/SHAPE_MISMATCH.*4 input features.*13 features/);
  });
  it('rejects a non-smooth activation, an unknown option and missing data', () => {
    expect(runCli(['analyze', '--dataset', 'iris', '--hidden', '4', '--activation', 'elu']).stderr).toMatch(/not smooth/);
    const unknown = runCli(['analyze', '--dataset', 'iris', '--hidden', '4', '--frobnicate']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/frobnicate/);
    expect(runCli(['analyze', '--hidden', '4']).stderr).toMatch(/no data given.*\n.*--dataset/);
  });
  it('rejects malformed data with the reason', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hb-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ x: [[1, 2], [3]], y: [0, 1] }));
    const r = runCli(['analyze', '--data', file, '--hidden', '3']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/BAD_DATA|SHAPE_MISMATCH/);
    expect(r.stderr).toMatch(/row 1/);
  });
  it('prints help and rejects unknown commands', () => {
    expect(runCli(['help']).stdout).toMatch(/analyze/);
    expect(runCli(['analyze', '--help']).stdout).toMatch(/--method dense\|lanczos\|auto/);
    expect(runCli(['frob']).status).toBe(2);
  });
});
