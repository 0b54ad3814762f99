/**
 * The WS value of the "inputs orthogonal" what-if is a counterfactual, not a bound (issue 21): on
 * digits it falls below the true lambda_max, so it is named orthogonalCounterfactual everywhere
 * (API, CLI, sweep CSV); sweep CSVs with the old column name still resume.
 */
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { wsBound } from '../src/bound.js';
import { randomModel } from '../src/model.js';
import { loadDataset } from '../src/node/datasets.js';
import { CSV_COLUMNS, CSV_HEADER, csvLayoutOf, parseCsvRowOf } from '../src/sweep/csv.js';
import { BACKENDS } from './helpers/backends.js';
import { runCli } from './helpers/cli.js';

const digits = loadDataset('digits');
const model = randomModel({ inputs: digits.d, hidden: [8], classes: digits.classes, activation: 'tanh', seed: 0 });

describe.each(BACKENDS)('the orthogonal counterfactual on the %s backend', (backend) => {
  it('can be below lambda_max (digits, 8 tanh units): it is no bound, and is not called one', async () => {
    const b = await wsBound(model, digits, { backend });
    const exact = await analyze(model, digits, { backend, method: 'lanczos', which: 'largest', bound: false });
    const counterfactual = b.orthogonality.orthogonalCounterfactual!.upper;
    expect(exact.lambdaMax!).toBeGreaterThan(counterfactual);
    expect(b.bound.upper).toBeGreaterThan(exact.lambdaMax!);
    expect(b.orthogonality).not.toHaveProperty('boundIfOrthogonal');
  });
});

describe('names', () => {
  it('the CLI labels it a counterfactual, not a bound', () => {
    const r = runCli(['bound', '--dataset', 'iris', '--hidden', '4', '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/orthogonal counterfactual\s+\S+\s+\(WS value if the inputs were orthogonal; not a bound on this net\)/);
    expect(r.stdout).not.toMatch(/bound if samples orthogonal/);
  });

  it('a sweep CSV with the old column name is read with the new one', () => {
    expect(CSV_HEADER).toContain('orthogonalCounterfactual');
    expect(CSV_HEADER).not.toContain('boundIfOrthogonal');
    const old = CSV_HEADER.replace('orthogonalCounterfactual', 'boundIfOrthogonal');
    expect(csvLayoutOf(old)).toBe(CSV_COLUMNS);
    expect(csvLayoutOf('a,b,c')).toBeNull();
    const cells = CSV_COLUMNS.map((c) => (c === 'orthogonalCounterfactual' ? '0.25' : c === 'converged' || c === 'lambdaConverged' || c === 'boundEstimated' ? 'true' : ''));
    expect(parseCsvRowOf(cells.join(','), csvLayoutOf(old)!).orthogonalCounterfactual).toBe(0.25);
  });
});
