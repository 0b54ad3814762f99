/**
 * The CLI's words (issue 21): did-you-mean for commands, options, option values and data set
 * names; `hessbound help <command>`; unknown options list the command's options; no library API
 * names in CLI hints; a negative number where a count goes gets the option's own message. And the
 * library's randomModel defaults its activation like the CLI (tanh).
 */
import { describe, expect, it } from 'vitest';
import { closestNames, didYouMean } from '../src/suggest.js';
import { flattenParams, randomModel } from '../src/model.js';
import { join } from 'node:path';
import { runCliAsync } from './helpers/cli-async.js';
import { FIXTURE_DIR } from './helpers/fixtures.js';

describe('did-you-mean', () => {
  it('finds typos, transpositions and prefixes, and nothing far away', () => {
    expect(closestNames('analyse', ['analyze', 'bound', 'train'])).toEqual(['analyze']);
    expect(closestNames('irsi', ['iris', 'wine', 'breast_cancer', 'digits'])).toEqual(['iris']);
    expect(closestNames('max-iter', ['max-iterations', 'method', 'model'])).toEqual(['max-iterations']);
    expect(closestNames('frobnicate', ['analyze', 'bound', 'train'])).toEqual([]);
    expect(didYouMean('wnie', ['iris', 'wine'])).toBe("; did you mean 'wine'?");
    expect(didYouMean('zzz', ['iris', 'wine'])).toBe('');
  });
});

describe('hessbound words', () => {
  it('unknown commands and help topics suggest the closest command', async () => {
    const r = await runCliAsync(['analyse']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'analyse'; did you mean 'analyze'\?/);
    const h = await runCliAsync(['help', 'sweeep']);
    expect(h.status).toBe(2);
    expect(h.stderr).toMatch(/no command 'sweeep'; did you mean 'sweep'\?/);
  });

  it('help <command> prints that command\'s options', async () => {
    const r = await runCliAsync(['help', 'bound']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^hessbound bound/);
    expect(r.stdout).toMatch(/--trace-method/);
    expect(r.stdout).not.toMatch(/--max-iterations/);
  });

  it('an unknown option is named, the closest suggested, and the command\'s options listed', async () => {
    const r = await runCliAsync(['analyze', '--dataset', 'iris', '--hidden', '4', '--max-iter', '3']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/hessbound analyze has no option '--max-iter'; did you mean --max-iterations\?/);
    expect(r.stderr).toMatch(/hint: hessbound analyze takes: .*--k .*--max-iterations .*--which \(hessbound help analyze explains them\)/);
    const far = await runCliAsync(['bound', '--dataset', 'iris', '--hidden', '4', '--frobnicate']);
    expect(far.stderr).toMatch(/hessbound bound has no option '--frobnicate'\n/);
    expect(far.stderr).toMatch(/hint: hessbound bound takes: .*--trace-method/);
  });

  it('a mistyped data set name gets a suggestion and a CLI hint, in analyze and before a sweep starts', async () => {
    for (const args of [['analyze', '--dataset', 'irsi', '--hidden', '4'], ['sweep', '--datasets', 'iris,wnie', '--widths', '4', '--seeds', '1', '--out', '/nonexistent/x.csv']]) {
      const r = await runCliAsync(args);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/unknown data set "(irsi|wnie)"; available: iris, wine, breast_cancer, digits; did you mean '(iris|wine)'\?/);
      expect(r.stderr).toMatch(/hint: or your own data: --data FILE/);
      // No library API names (readDataFile(path), {option: value}) in what the CLI says.
      expect(r.stderr).not.toMatch(/readDataFile|\w\(\w*\)/);
    }
  });

  it('library errors give the command line\'s hint, without API names', async () => {
    const npy = join(FIXTURE_DIR, 'interop', 'iris.y.i32.npy');
    const r = await runCliAsync(['analyze', '--data', npy, '--hidden', '2']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/hint: give both: --data-x X\.npy --data-y Y\.npy, or one \.npz archive\n/);
    expect(r.stderr).not.toMatch(/parseDataArrays|\(API\)|\(CLI\)/);
    const big = await runCliAsync(['analyze', '--dataset', 'digits', '--hidden', '3000', '--method', 'dense']);
    expect(big.stderr).toMatch(/TOO_LARGE[\s\S]*hint: use --method lanczos for the extreme eigenvalues\n/);
  });

  it('option values: a negative count, a missing value, a misspelt choice', async () => {
    const negative = await runCliAsync(['analyze', '--dataset', 'iris', '--hidden', '4', '--k', '-3']);
    expect(negative.status).toBe(2);
    expect(negative.stderr).toMatch(/--k must be an integer >= 1, got '-3'\n {2}hint: hessbound help analyze says what --k takes/);
    expect(negative.stderr).not.toMatch(/ambiguous|--k=-XYZ|README/);
    const missing = await runCliAsync(['analyze', '--dataset', 'iris', '--hidden', '4', '--k']);
    expect(missing.stderr).toMatch(/--k needs a value/);
    const choice = await runCliAsync(['analyze', '--dataset', 'iris', '--hidden', '4', '--method', 'lanczso']);
    expect(choice.stderr).toMatch(/--method must be one of dense, lanczos, auto; got 'lanczso'; did you mean 'lanczos'\?/);
  });
});

describe('randomModel', () => {
  it('defaults its activation to tanh, as the CLI does', () => {
    const implicit = randomModel({ inputs: 4, hidden: [5], classes: 3, seed: 2 });
    const explicit = randomModel({ inputs: 4, hidden: [5], classes: 3, seed: 2, activation: 'tanh' });
    expect(implicit.activation).toBe('tanh');
    expect(flattenParams(implicit)).toEqual(flattenParams(explicit));
  });
});
