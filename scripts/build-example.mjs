// Bundles the browser example (examples/browser/main.ts -> examples/browser/dist/main.js) with
// esbuild for the browser platform: a Node built-in reachable from src/browser.ts fails the build.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export async function buildBrowserExample() {
  const outfile = join(root, 'examples', 'browser', 'dist', 'main.js');
  await build({
    entryPoints: [join(root, 'examples', 'browser', 'main.ts')],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    logLevel: 'warning',
    // The backends' computed import() specifiers are meant to stay unbundled (Node-only paths).
    logOverride: { 'unsupported-dynamic-import': 'silent' },
  });
  // The kernel's Web Worker: esbuild does not follow `new Worker(new URL(...))`, so it is an entry of its own.
  await build({
    entryPoints: [join(root, 'src', 'browser-worker.ts')],
    outfile: join(root, 'examples', 'browser', 'dist', 'kernel-worker.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    logLevel: 'warning',
    logOverride: { 'unsupported-dynamic-import': 'silent' },
  });
  return outfile;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(`hessbound: built ${await buildBrowserExample()}`);
}
