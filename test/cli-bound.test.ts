/** hessbound bound and the bound shown by analyze: closed form equals the fixtures' dense traces. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { wsBound } from '../src/bound.js';
import { BACKENDS } from './helpers/backends.js';
import { runCli } from './helpers/cli.js';
import { FIXTURE_DIR, loadFixtures, relErr } from './helpers/fixtures.js';

const fixtures = loadFixtures();

describe.each(BACKENDS)('the WS bound on the %s backend', (backend) => {
  it.each(fixtures)('wsBound reproduces $name', async (f) => {
    const r = await wsBound(f.model, f.data, { backend, reduction: f.reduction });
    expect(r.backend).toBe(backend);
    expect(r.closedForm).toBe(f.hiddenLayers === 1);
    expect(r.estimated).toBe(false);
    expect(relErr(r.trace, f.expected.trace)).toBeLessThan(1e-10);
    expect(relErr(r.traceOfSquare, f.expected.traceOfSquare)).toBeLessThan(1e-10);
    for (const key of ['upper', 'lowerOfMax', 'lowerOfMin', 'upperOfMin', 'spread'] as const)
      expect(relErr(r.bound[key], f.expected.bound[key])).toBeLessThan(1e-9);
    expect(r.bound.upper).toBeGreaterThanOrEqual(f.expected.lambdaMax);
  });

  it('analyze with Lanczos takes the traces from the closed form for one hidden layer', async () => {
    const f = fixtures.find((x) => x.name === 'iris-tanh-h8')!;
    const r = await analyze(f.model, f.data, { backend, method: 'lanczos' });
    expect(r.traceSource).toBe('closed-form');
    expect(relErr(r.trace!, f.expected.trace)).toBeLessThan(1e-10);
    expect(relErr(r.bound!.upper, f.expected.bound.upper)).toBeLessThan(1e-9);
    expect(relErr(r.boundRatio!, f.expected.bound.upper / f.expected.lambdaMax)).toBeLessThan(1e-9);
    const deep = fixtures.find((x) => x.hiddenLayers > 1)!;
    const d = await analyze(deep.model, deep.data, { backend, method: 'lanczos', reduction: deep.reduction });
    expect(d.trace).toBeNull();
    expect(d.bound).toBeNull();
    expect(d.traceSource).toBe('none');
  });

  it('hessbound bound --json prints the contract keys', () => {
    const name = 'iris-sigmoid-h6-trained';
    const r = runCli(['bound', '--model', join(FIXTURE_DIR, `${name}.model.json`), '--data', join(FIXTURE_DIR, `${name}.data.json`), '--no-standardize', '--trace-method', 'dual', '--backend', backend, '--json']);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    for (const key of ['trace', 'traceOfSquare', 'bound', 'parameters', 'samples', 'backend', 'seconds', 'closedForm', 'estimated', 'method', 'decomposition'])
      expect(out).toHaveProperty(key);
    expect(out['method']).toBe('dual');
    expect(out['closedForm']).toBe(true);
    const f = fixtures.find((x) => x.name === name)!;
    expect(relErr(out['traceOfSquare'] as number, f.expected.traceOfSquare)).toBeLessThan(1e-10);
  });

  it('hessbound bound on a deep net says the traces are estimated, with an interval', () => {
    const name = 'wine-softplus-h5x4';
    const r = runCli(['bound', '--model', join(FIXTURE_DIR, `${name}.model.json`), '--data', join(FIXTURE_DIR, `${name}.data.json`), '--no-standardize', '--trace-method', 'hutch++', '--backend', backend]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Hutch\+\+ estimate/);
    expect(r.stdout).toMatch(/95% interval \[/);
  });
});

describe('hessbound bound errors', () => {
  it('refuses the closed form on a deep net and unknown trace methods', () => {
    const name = 'wine-softplus-h5x4';
    const deep = runCli(['bound', '--model', join(FIXTURE_DIR, `${name}.model.json`), '--data', join(FIXTURE_DIR, `${name}.data.json`), '--trace-method', 'dual']);
    expect(deep.status).not.toBe(0);
    expect(deep.stderr).toMatch(/BAD_OPTION/);
    const unknown = runCli(['bound', '--dataset', 'iris', '--hidden', '4', '--trace-method', 'magic']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/trace-method must be one of/);
  });
});
