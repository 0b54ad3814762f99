/**
 * --plot FILE, checked before any work starts: an .svg name (plots are SVG only; a PNG would need a
 * renderer far heavier than the rest of the install) in a folder that exists and can be written.
 */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import { fail } from '../errors.js';

export function checkPlotPath(path: string, option = '--plot'): void {
  if (path.trim() === '') fail('BAD_OPTION', `${option} needs a file name`, 'e.g. --plot plot.svg');
  const ext = extname(path).toLowerCase();
  if (ext !== '.svg') {
    const svgName = `${basename(path, extname(path))}.svg`;
    fail(
      'BAD_OPTION',
      `${option} ${path}: hessbound writes plots as SVG only, so the name must end in .svg`,
      `give ${option} ${svgName}; for a PNG, convert the SVG afterwards (e.g. rsvg-convert -o ${basename(path, extname(path))}.png ${svgName}, or open it in a browser)`,
    );
  }
  const full = resolve(path);
  const dir = dirname(full);
  if (!existsSync(dir)) fail('IO', `the folder ${dirname(path)} of ${option} ${path} does not exist`, `create it first (mkdir -p ${dirname(path)}) or give a path in an existing folder`);
  if (!statSync(dir).isDirectory()) fail('IO', `${dirname(path)} in ${option} ${path} is not a folder`, 'give a path in an existing folder');
  if (existsSync(full) && statSync(full).isDirectory()) fail('IO', `${option} ${path} is a folder, not a file name`, `e.g. ${option} ${path.replace(/[\\/]+$/, '')}/plot.svg`);
  try {
    accessSync(existsSync(full) ? full : dir, constants.W_OK);
  } catch {
    fail('IO', `cannot write ${option} ${path}: ${existsSync(full) ? 'the file' : 'its folder'} is not writable`, 'give a path in a folder you can write to');
  }
}
