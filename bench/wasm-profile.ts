/**
 * Where the WebAssembly Lanczos run spends its time (issue 15): links the single-threaded module
 * again with function names (`--profiling-funcs`, from build-wasm/'s objects: run npm run build:wasm
 * first) into a temporary folder, runs `analyze(method: 'lanczos')` on digits at width 1024 three
 * times in a child process on that module in-thread (HESSBOUND_WASM_DIR, HESSBOUND_WASM_THREAD=0)
 * under `node --cpu-prof`, and prints each function's share of the samples (self time), the top 12.
 *
 *   node --import tsx bench/wasm-profile.ts [--width N]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_DIR } from './lib/peer.js';

const width = Number(process.argv[process.argv.indexOf('--width') + 1] || 1024) || 1024;
const dir = mkdtempSync(join(tmpdir(), 'hb-wasm-profile-'));
const build = join(REPO_DIR, 'build-wasm');
const env = { ...process.env, NODE_PATH: [process.env['NODE_PATH'], '/usr/share/nodejs'].filter(Boolean).join(':') };

// The release link line with names kept and the output moved.
const link = readFileSync(join(build, 'CMakeFiles', 'hessbound_wasm.dir', 'link.txt'), 'utf8').trim().split(/\s+/);
const out = link.indexOf('-o');
link[out + 1] = join(dir, 'hessbound-wasm.js');
execFileSync(link[0]!, ['--profiling-funcs', ...link.slice(1)], { cwd: build, env, stdio: 'inherit' });
writeFileSync(join(dir, 'package.json'), '{ "type": "commonjs" }\n');

const script = `
import { analyze, loadDataset, randomModel } from ${JSON.stringify(pathToFileURL(join(REPO_DIR, 'src', 'index.ts')).href)};
const digits = loadDataset('digits');
const model = randomModel({ inputs: digits.d, hidden: [${width}], classes: digits.classes, activation: 'tanh', seed: 0 });
for (let i = 0; i < 3; i++) await analyze(model, digits, { method: 'lanczos', which: 'largest', k: 1, tolerance: 1e-10, bound: false, backend: 'wasm' });
`;
writeFileSync(join(dir, 'run.mts'), script);
execFileSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--import', 'tsx', join(dir, 'run.mts')], {
  cwd: REPO_DIR,
  env: { ...env, HESSBOUND_WASM_DIR: dir, HESSBOUND_WASM_THREAD: '0' },
  stdio: 'inherit',
});

interface Profile {
  nodes: { id: number; callFrame: { functionName: string; url: string } }[];
  samples: number[];
  timeDeltas: number[];
}
const file = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort()[0]!;
const p = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map<string, number>();
let total = 0;
p.samples.forEach((id, i) => {
  const frame = byId.get(id)!.callFrame;
  const name = frame.url.startsWith('wasm://') || !frame.url ? frame.functionName || '(wasm)' : `(JS: ${frame.url.split('/').pop()})`;
  self.set(name, (self.get(name) ?? 0) + p.timeDeltas[i]!);
  total += p.timeDeltas[i]!;
});
console.log(`Run ${new Date().toISOString()}: 3 x analyze(method: 'lanczos') on digits, width ${width}, single-threaded module; ${(total / 1e6).toFixed(1)} s sampled.\n`);
console.log('| share of samples (self) | function |');
console.log('| --- | --- |');
for (const [name, t] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12))
  console.log(`| ${((100 * t) / total).toFixed(1)}% | \`${name.replace(/\|/g, '\\|').slice(0, 100)}\` |`);
