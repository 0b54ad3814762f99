/**
 * --plot FILE is checked before any work: a name not ending in .svg is refused (BAD_OPTION naming
 * .svg; plots are SVG only), and a folder that does not exist fails at once (IO), in every command
 * that writes a plot; nothing else is written (the sweep's CSV, the trained model).
 */
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BACKENDS } from './helpers/backends.js';
import { runCli } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'hb-plot-paths-'));

/** Each command with --plot, and the other file it would write (absent after a refusal). */
const COMMANDS: Array<{ name: string; args: (plot: string) => string[]; other?: string }> = [
  { name: 'sweep', args: (p) => ['sweep', '--dataset', 'iris', '--widths', '2,4', '--seeds', '2', '--out', join(dir, 'sweep.csv'), '--plot', p], other: join(dir, 'sweep.csv') },
  { name: 'spectrum', args: (p) => ['spectrum', '--dataset', 'iris', '--hidden', '4', '--plot', p] },
  { name: 'landscape', args: (p) => ['landscape', '--dataset', 'iris', '--hidden', '4', '--plot', p] },
  { name: 'train --track', args: (p) => ['train', '--dataset', 'iris', '--hidden', '4', '--track', '5', '--out', join(dir, 'model.json'), '--plot', p], other: join(dir, 'model.json') },
];

describe.each(BACKENDS)('--plot paths are checked before the run (%s)', (backend) => {
  for (const command of COMMANDS) {
    it(`${command.name} --plot x.png: refused, naming .svg`, () => {
      const r = runCli([...command.args(join(dir, 'x.png')), '--backend', backend, '--quiet']);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('[BAD_OPTION]');
      expect(r.stderr).toContain('SVG only');
      expect(r.stderr).toContain('x.svg');
      if (command.other) expect(existsSync(command.other)).toBe(false);
      expect(existsSync(join(dir, 'x.png'))).toBe(false);
    });

    it(`${command.name} --plot nodir/y.svg: fails at once`, () => {
      const r = runCli([...command.args(join(dir, 'nodir', 'y.svg')), '--backend', backend, '--quiet']);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('[IO]');
      expect(r.stderr).toMatch(/folder .*nodir.* does not exist/);
      expect(r.stderr).toContain('mkdir -p');
      if (command.other) expect(existsSync(command.other)).toBe(false);
    });
  }

  it('demo --out-dir nodir: fails at once', () => {
    const r = runCli(['demo', '--out-dir', join(dir, 'nodir'), '--backend', backend, '--quiet']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/folder .*nodir.* does not exist/);
    expect(r.stdout).not.toContain('Wrote');
  });

  it('--plot naming a folder is refused', () => {
    mkdirSync(join(dir, 'folder.svg'), { recursive: true });
    const r = runCli(['spectrum', '--dataset', 'iris', '--hidden', '4', '--plot', join(dir, 'folder.svg'), '--backend', backend, '--quiet']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('is a folder, not a file name');
  });
});
