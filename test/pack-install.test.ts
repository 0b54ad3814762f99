/**
 * The package as a user gets it, in the per-platform layout: `scripts/pack-all.mjs --local-addon`
 * makes the main tarball (small, no addon, optionalDependencies on @hessbound/<platform>) and this
 * machine's platform package from its own build/Release addon (stripped; the release's addons are
 * built against glibc 2.31 by `npm run pack:all`, which needs root and minutes). Both are installed
 * with `npm install --ignore-scripts` into a fresh project with a PATH that has no cmake or
 * compiler. The addon must load from the platform package (native backend) and be self-contained
 * (ldd: no OpenBLAS, LAPACK or gfortran), and the CLI must work.
 * (Packs the current build: `npm run build:wasm && npm run build:ts` is what prepack would run.)
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';

function run(command: string, args: string[], options: SpawnSyncOptions = {}) {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 300_000, ...options });
  return { status: r.status, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

/** A bin folder with node, npm, npx and sh only. */
function bareBin(dir: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const npmRoot = join(process.execPath, '..', '..', 'lib', 'node_modules', 'npm', 'bin');
  symlinkSync(process.execPath, join(bin, 'node'));
  symlinkSync(join(npmRoot, 'npm-cli.js'), join(bin, 'npm'));
  symlinkSync(join(npmRoot, 'npx-cli.js'), join(bin, 'npx'));
  symlinkSync('/bin/sh', join(bin, 'sh'));
  return bin;
}

describe('npm pack, then install without a compiler', () => {
  it('loads the prebuilt self-contained addon, and the CLI runs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hb-pack-'));
    const packs = join(dir, 'packs');
    const packed = run(process.execPath, ['scripts/pack-all.mjs', '--local-addon', '--out', packs], { cwd: ROOT });
    expect(packed.status, packed.stderr + packed.stdout).toBe(0);
    const ours = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const mainTarball = join(packs, `hessbound-${ours.version}.tgz`);
    const platformTarball = join(packs, `hessbound-linux-x64-gnu-${ours.version}.tgz`);
    // The main package is small: the 27 MB addon lives in the platform package.
    expect(statSync(mainTarball).size).toBeLessThan(5e6);
    const files = run('tar', ['-tzf', mainTarball]).stdout.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
    expect(files.some((f) => f.endsWith('.node'))).toBe(false);
    expect(files.some((f) => f.startsWith('prebuilds/') || f.startsWith('scripts/release/'))).toBe(false);
    expect(files).toContain('LICENSE');
    // Both WebAssembly builds: the single-threaded module and the threaded one with its pthread worker script.
    for (const f of ['hessbound-wasm.js', 'hessbound-wasm.wasm', 'hessbound-wasm-mt.js', 'hessbound-wasm-mt.wasm', 'hessbound-wasm-mt.worker.js'])
      expect(files).toContain(`wasm/dist/${f}`);
    expect(files.some((f) => f.startsWith('build/'))).toBe(false);
    expect(run('tar', ['-tzf', platformTarball]).stdout.split('\n').filter(Boolean).sort()).toEqual(
      ['package/LICENSE', 'package/README.md', 'package/hessbound.linux-x64-gnu.node', 'package/package.json']);

    const project = join(dir, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'hb-user', version: '1.0.0', private: true, type: 'module' }));
    const env = { ...process.env, PATH: bareBin(dir), HESSBOUND_BACKEND: '', HESSBOUND_ADDON: '', npm_config_audit: 'false', npm_config_fund: 'false' };
    delete env.HESSBOUND_ADDON;
    delete env.HESSBOUND_BACKEND;
    for (const tool of ['cmake', 'g++', 'c++', 'cc']) expect(run('sh', ['-c', `command -v ${tool}`], { env }).status).not.toBe(0);
    // Both tarballs at once, as npm would fetch them from the registry; the arm64 package is not
    // published from here, and npm skips an optional dependency it cannot get or that does not fit.
    const installed = run('npm', ['install', '--ignore-scripts', '--prefer-offline', mainTarball, platformTarball], { cwd: project, env });
    expect(installed.status, installed.stderr).toBe(0);
    const pkg = join(project, 'node_modules', 'hessbound');
    const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { optionalDependencies: Record<string, string> };
    expect(manifest.optionalDependencies).toEqual({ '@hessbound/linux-x64-gnu': ours.version, '@hessbound/linux-arm64-gnu': ours.version });
    const platformPkg = join(project, 'node_modules', '@hessbound', 'linux-x64-gnu');
    expect(JSON.parse(readFileSync(join(platformPkg, 'package.json'), 'utf8'))).toMatchObject({ os: ['linux'], cpu: ['x64'], libc: ['glibc'], main: 'hessbound.linux-x64-gnu.node' });
    expect(existsSync(join(project, 'node_modules', '@hessbound', 'linux-arm64-gnu'))).toBe(false);
    // Source maps carry their sources (src/ is not shipped).
    const map = JSON.parse(readFileSync(join(pkg, 'dist', 'src', 'index.js.map'), 'utf8')) as { sources: string[]; sourcesContent?: string[] };
    expect(map.sourcesContent?.length).toBe(map.sources.length);
    expect(map.sourcesContent?.every((s) => s.length > 0)).toBe(true);
    // Build-only packages are not installed for users, nor the queue's optional peers.
    for (const dev of ['cmake-js', 'node-addon-api', 'node-api-headers', 'bullmq', 'ioredis', 'protobufjs'])
      expect(existsSync(join(project, 'node_modules', dev)), dev).toBe(false);
    // A lean install: hessbound and at most 39 packages it brings (issue 21; it was 200 / 94 MB).
    const lock = JSON.parse(readFileSync(join(project, 'node_modules', '.package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
    const installedPackages = Object.keys(lock.packages).filter((p) => p.startsWith('node_modules/'));
    expect(installedPackages.length, installedPackages.join(' ')).toBeLessThanOrEqual(40);
    expect(installedPackages.some((p) => p.includes('@stdlib/'))).toBe(false);

    // The queue without its optional peers: a clear error naming what to install, from the library and the CLI.
    const queue = run('node', ['-e', "import('hessbound/queue').then((q) => q.openQueueExecutor({ url: 'redis://127.0.0.1:9/0' })).catch((e) => console.log(JSON.stringify({ code: e.code, message: e.message })))"], { cwd: project, env });
    expect(queue.status, queue.stderr).toBe(0);
    const queueError = JSON.parse(queue.stdout) as { code: string; message: string };
    expect(queueError.code).toBe('BACKEND');
    expect(queueError.message).toMatch(/the queue needs the packages bullmq and ioredis, which are not installed[\s\S]*npm install bullmq@\S+ ioredis@/);
    const worker = run('npx', ['hessbound', 'worker', '--queue', 'redis://127.0.0.1:9/0'], { cwd: project, env });
    expect(worker.status).not.toBe(0);
    expect(worker.stderr).toMatch(/bullmq and ioredis, which are not installed[\s\S]*npm install bullmq@/);

    const probe = run('node', ['-e', "import('hessbound').then(async (h) => { const b = await h.getBackend(); console.log(JSON.stringify({ name: b.name, ...b.addonInfo })); })"], { cwd: project, env });
    expect(probe.status, probe.stderr).toBe(0);
    const backend = JSON.parse(probe.stdout) as { name: string; path: string; linkage: string; linalg: string };
    expect(backend).toMatchObject({ name: 'native', linalg: 'openblas', linkage: 'static' });
    expect(backend.path).toBe(join(platformPkg, 'hessbound.linux-x64-gnu.node'));

    // The threaded WebAssembly build loads from the installed package, runs a call on 2 threads, and the process exits.
    const threaded = run('node', ['-e', "import('hessbound').then(async (h) => { const d = h.loadDataset('iris'); const m = h.randomModel({ inputs: d.d, hidden: [64], classes: d.classes, activation: 'tanh', seed: 1 }); const r = await h.analyze(m, d, { method: 'lanczos', k: 1, bound: false, backend: 'wasm-threads' }); const b = await h.getBackend('wasm-threads'); console.log(JSON.stringify({ name: b.name, threads: await b.threadsUsed(), lambdaMax: r.lambdaMax })); })"], { cwd: project, env: { ...env, HESSBOUND_THREADS: '2' } });
    expect(threaded.status, threaded.stderr).toBe(0);
    expect(JSON.parse(threaded.stdout)).toMatchObject({ name: 'wasm-threads', threads: 2 });

    // Where no addon loads (another platform: here HESSBOUND_ADDON at a missing file), Node picks the
    // threaded WebAssembly build on the cores by itself, and says so.
    const noAddon = run('npx', ['hessbound', '--version'], { cwd: project, env: { ...env, HESSBOUND_ADDON: join(dir, 'none', 'hessbound.node') } });
    expect(noAddon.status, noAddon.stderr).toBe(0);
    const cores = Math.min(8, availableParallelism());
    expect(noAddon.stdout).toMatch(cores > 1 ? new RegExp(`backend: wasm-threads \\(eigen, [^)]*${cores} threads\\)`) : /backend: wasm \(eigen, [^)]*1 thread\)/);

    const ldd = run('ldd', [backend.path]);
    expect(ldd.status).toBe(0);
    expect(ldd.stdout).not.toMatch(/openblas|lapack|blas|gfortran|quadmath/i);
    expect(ldd.stdout).toMatch(/libc\.so/);

    // The install script (skipped above) says what it would use, and never fails.
    const hook = run('node', ['scripts/install-native.mjs'], { cwd: pkg, env });
    expect(hook.status).toBe(0);
    expect(hook.stdout).toMatch(/using the native addon .*node_modules\/@hessbound\/linux-x64-gnu\/hessbound\.linux-x64-gnu\.node \(openblas\)/);
    const fromSource = run('node', ['scripts/install-native.mjs'], { cwd: pkg, env: { ...env, HESSBOUND_BUILD_FROM_SOURCE: '1' } });
    expect(fromSource.status).toBe(0);
    expect(fromSource.stdout).toMatch(/cmake-js is not installed[\s\S]*needs cmake/);

    const version = run('npx', ['hessbound', '--version'], { cwd: project, env });
    expect(version.status, version.stderr).toBe(0);
    expect(version.stdout).toMatch(new RegExp(`^hessbound ${ours.version.replace(/\./g, '\\.')} — backend: native \\(openblas, static linkage, \\d+ OpenBLAS thread`));

    const demo = run('npx', ['hessbound', 'demo', '--quiet', '--out-dir', dir], { cwd: project, env });
    expect(demo.status, demo.stderr).toBe(0);
    expect(demo.stderr).not.toMatch(/WebAssembly/);
    expect(readFileSync(join(dir, 'hessbound-demo.csv'), 'utf8')).toMatch(/,native,/);
    expect(readFileSync(join(dir, 'hessbound-demo.svg'), 'utf8')).toMatch(/^<svg/);
  }, 600_000);
});
