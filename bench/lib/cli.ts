/** How the benches start the hessbound CLI as a whole process. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

import { REPO_DIR } from './peer.js';

const DIST_MAIN = join(REPO_DIR, 'dist', 'src', 'cli', 'main.js');

function sourcesNewerThanDist(): string[] {
  const stale: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) {
        const rel = relative(REPO_DIR, path).replace(/\.ts$/, '.js');
        const built = join(REPO_DIR, 'dist', rel);
        if (!existsSync(built) || statSync(built).mtimeMs < statSync(path).mtimeMs) stale.push(relative(REPO_DIR, path));
      }
    }
  };
  walk(join(REPO_DIR, 'src'));
  return stale;
}

/**
 * The compiled CLI (node dist/src/cli/main.js, what `hessbound` runs) when it is built, else the
 * TypeScript sources through tsx (slower to start: it transpiles on the fly). A dist/ older than
 * some sources is still used (tsx start-up would distort a whole-process timing more than a stale
 * unrelated file), with a warning.
 */
export function cliCommand(): { argv: string[]; note: string } {
  if (existsSync(DIST_MAIN)) {
    const stale = sourcesNewerThanDist();
    const warning = stale.length
      ? ` (WARNING: dist/ is older than ${stale.length} source file(s), e.g. ${stale[0]}; npm run build:ts refreshes it)`
      : '';
    return { argv: [process.execPath, DIST_MAIN], note: `node dist/src/cli/main.js${warning}` };
  }
  return {
    argv: [process.execPath, '--import', 'tsx', join(REPO_DIR, 'src', 'cli', 'main.ts')],
    note: 'node --import tsx src/cli/main.ts (dist/ not built; npm run build:ts to time the compiled CLI)',
  };
}
