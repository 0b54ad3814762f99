// `npm run pack:all`: every npm tarball of a release, into packs/ (not in git).
//  - hessbound-<v>.tgz: the main package, small (TypeScript build, WebAssembly modules, sources for a
//    from-source build), with optionalDependencies on the platform packages below (added here, as
//    napi-rs's prepublish does, so the repository's own install never asks the registry for them);
//  - hessbound-linux-x64-gnu-<v>.tgz, hessbound-linux-arm64-gnu-<v>.tgz: one stripped,
//    self-contained addon each, with os/cpu/libc fields so npm installs only the matching one.
// The addons are built in a Debian bullseye root (glibc 2.31) by scripts/release/build-linux.sh;
// the arm64 one is then tested under qemu-user-static by scripts/release/test-arm64.mjs.
// Needs root (debootstrap, chroot) the first time; the roots are cached in ~/.cache/hessbound/.
// --local-addon packs this machine's own build/Release addon (stripped) as its platform package instead:
// seconds, no root, but no glibc floor (test/pack-install.test.ts uses it to check the layout).
//   node scripts/pack-all.mjs [--out DIR] [--targets linux-x64-gnu,linux-arm64-gnu] [--reuse-addons] [--skip-arm64-test] [--local-addon]
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    out: { type: 'string', default: join(repo, 'packs') },
    targets: { type: 'string', default: 'linux-x64-gnu,linux-arm64-gnu' },
    'reuse-addons': { type: 'boolean', default: false },
    'skip-arm64-test': { type: 'boolean', default: false },
    'local-addon': { type: 'boolean', default: false },
  },
});
// The same table as src/backend/platform-package.ts (PLATFORM_PACKAGES).
const TARGETS = {
  'linux-x64-gnu': { os: 'linux', cpu: 'x64', libc: 'glibc', arch: 'x64' },
  'linux-arm64-gnu': { os: 'linux', cpu: 'arm64', libc: 'glibc', arch: 'arm64' },
};
const out = resolve(args.out);
const main = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
const timings = [];

function step(label, command, argv, options = {}) {
  const started = Date.now();
  console.log(`pack:all: ${label} ...`);
  const r = spawnSync(command, argv, { stdio: ['ignore', 'inherit', 'inherit'], cwd: repo, ...options });
  const seconds = (Date.now() - started) / 1000;
  timings.push({ label, seconds });
  if (r.status !== 0) {
    console.error(`pack:all: ${label} failed (${r.status ?? r.signal}) after ${seconds.toFixed(0)} s`);
    process.exit(1);
  }
}

/** npm pack of a staged folder; returns the tarball's path. */
function pack(folder) {
  const r = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', out], { cwd: folder, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm pack in ${folder} failed: ${r.stderr}`);
  return join(out, JSON.parse(r.stdout)[0].filename);
}

const local = args['local-addon'];
const hostTarget = `${process.platform}-${process.arch}-gnu`;
const targets = local ? [hostTarget] : args.targets.split(',').filter(Boolean);
for (const t of targets) if (!TARGETS[t]) throw new Error(`unknown target ${t} (known: ${Object.keys(TARGETS).join(', ')})`);
mkdirSync(join(out, 'addons'), { recursive: true });
const stage = join(out, 'stage');
rmSync(stage, { recursive: true, force: true });

// 1. The addons, one per platform (slow the first time: debootstrap, then a full build).
for (const target of targets) {
  const addon = join(out, 'addons', `hessbound.${target}.node`);
  const triple = TARGETS[target].arch === 'x64' ? 'x86_64-linux-gnu' : 'aarch64-linux-gnu';
  if (local) {
    step(`strip this machine's build/Release addon`, 'strip', ['--strip-unneeded', '-o', addon, join(repo, 'build', 'Release', 'hessbound.node')]);
    step(`check the local ${target} addon (no glibc floor)`, process.execPath, ['scripts/release/check-addon.mjs', addon, triple, '--no-glibc-floor']);
  } else if (args['reuse-addons'] && existsSync(addon)) {
    step(`check the reused ${target} addon`, process.execPath, ['scripts/release/check-addon.mjs', addon, triple]);
  } else {
    step(`build the ${target} addon (bullseye root, glibc 2.31)`, 'bash', ['scripts/release/build-linux.sh', TARGETS[target].arch, addon]);
  }
  if (target === 'linux-arm64-gnu' && !args['skip-arm64-test'] && !local)
    step('test the arm64 addon and kernel checks under qemu-user-static', process.execPath, ['scripts/release/test-arm64.mjs', addon]);
}

// 2. One package per platform: the addon is its main file.
for (const target of targets) {
  const { os, cpu, libc } = TARGETS[target];
  const dir = join(stage, target);
  mkdirSync(dir, { recursive: true });
  const file = `hessbound.${target}.node`;
  copyFileSync(join(out, 'addons', file), join(dir, file));
  copyFileSync(join(repo, 'LICENSE'), join(dir, 'LICENSE'));
  writeFileSync(join(dir, 'README.md'), `# @hessbound/${target}\n\nThe prebuilt native addon of [hessbound](https://www.npmjs.com/package/hessbound) for ${target} ` +
    `(glibc 2.31 or newer). Installed by npm as an optional dependency of \`hessbound\`; not meant to be used directly.\n`);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({
    name: `@hessbound/${target}`, version: main.version, description: `hessbound's prebuilt native addon for ${target}`,
    license: main.license, main: file, files: [file], os: [os], cpu: [cpu], libc: [libc], engines: main.engines,
  }, null, 2) + '\n');
  console.log(`pack:all: ${pack(dir)}`);
}

// 3. The main package: what `npm pack` of the checkout holds, with the platform packages as optionalDependencies.
for (const built of ['dist/src/index.js', 'wasm/dist/hessbound-wasm.wasm', 'wasm/dist/hessbound-wasm-mt.wasm'])
  if (!existsSync(join(repo, built))) throw new Error(`${built} is missing: npm run build:wasm && npm run build:ts first`);
const listed = spawnSync('npm', ['pack', '--dry-run', '--ignore-scripts', '--json'], { cwd: repo, encoding: 'utf8' });
if (listed.status !== 0) throw new Error(`npm pack --dry-run failed: ${listed.stderr}`);
const mainDir = join(stage, 'hessbound');
for (const { path } of JSON.parse(listed.stdout)[0].files) cpSync(join(repo, path), join(mainDir, path));
const manifest = { ...main, optionalDependencies: Object.fromEntries(Object.keys(TARGETS).map((t) => [`@hessbound/${t}`, main.version])) };
writeFileSync(join(mainDir, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
const mainTarball = pack(mainDir);
const mb = statSync(mainTarball).size / 1e6;
console.log(`pack:all: ${mainTarball} (${mb.toFixed(2)} MB)`);
if (mb >= 5) {
  console.error('pack:all: the main tarball must stay under 5 MB (the addons belong in the platform packages)');
  process.exit(1);
}
rmSync(stage, { recursive: true, force: true });
for (const { label, seconds } of timings) console.log(`pack:all: ${seconds.toFixed(0).padStart(5)} s  ${label}`);
