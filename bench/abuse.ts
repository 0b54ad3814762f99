/**
 * The abuse suite's longer mode (test/abuse-*.test.ts and test/data-scale.test.ts at full size):
 * data files of 60,000 x 3,072 (issue 25 item 6) with the growth of the loading process's peak RSS
 * against the file and the one float64 matrix; input bombs at larger sizes with the CLI's peak RSS;
 * the time to honour an AbortSignal during a dense eigensolve, repeated. Output: bench/abuse-results.md.
 *
 *   node --import tsx bench/abuse.ts [--quick]
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyze, loadDataset, randomModel } from '../src/index.js';
import { machineInfo, printMachine } from './lib/machine.js';
import { REPO_DIR } from './lib/peer.js';
import { writeFeatureNpy, writeLabelNpy } from '../test/helpers/npy-writer.js';
import { aliasingSafetensors, gzipOneMember, gzipRepeated, maxRssMb, withMaxRss, zerosNpy, zipDeflated } from '../test/helpers/abuse.js';

const quick = process.argv.includes('--quick');
const dir = mkdtempSync(join(tmpdir(), 'hb-abuse-bench-'));
const MB = 1e6;
const mb = (bytes: number) => `${(bytes / MB).toFixed(0)} MB`;

function node(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', ...args], { cwd: REPO_DIR, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 600_000, maxBuffer: 1e8 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function dataAtScale(): Promise<void> {
  const n = quick ? 6000 : 60_000;
  const d = 3072;
  console.log(`\n## Data at scale: ${n.toLocaleString('en-US')} x ${d.toLocaleString('en-US')} (.npy features + int64 labels; CSV with a header and the label last)\n`);
  console.log('| file | file size | float64 matrix | peak-RSS growth while loading | growth minus the expected (file + matrix; float64: the file is the matrix) | seconds |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  const labels = join(dir, 'y.npy');
  writeLabelNpy(labels, Array.from({ length: n }, (_, i) => i % 10));
  for (const dtype of ['f4', 'f8'] as const) {
    const x = join(dir, `x-${dtype}.npy`);
    writeFeatureNpy(x, n, d, dtype, (i, j) => ((i * 31 + j * 17) % 1024) / 256 - 2);
    const r = node([join(REPO_DIR, 'test/helpers/load-rss.ts'), 'npy', x, labels]);
    const out = JSON.parse(r.stdout) as { grewBytes: number; seconds: number; error?: string };
    const file = statSync(x).size;
    const matrix = 8 * n * d;
    // float64: the file's bytes are the matrix (counted once).
    const expected = dtype === 'f8' ? file : file + matrix;
    console.log(`| ${dtype === 'f4' ? 'float32' : 'float64'} .npy | ${mb(file)} | ${mb(matrix)} | ${out.error ? `error: ${out.error}` : mb(out.grewBytes)} | ${out.error ? '' : mb(out.grewBytes - expected)} | ${out.seconds?.toFixed(1) ?? ''} |`);
    rmSync(x);
  }
  // CSV: above 400 MB read in chunks straight into the matrix (src/node/large-csv.ts).
  const csv = join(dir, 'x.csv');
  const fd = openSync(csv, 'w');
  writeSync(fd, `${Array.from({ length: d }, (_, j) => `f${j}`).join(',')},label\n`);
  for (let i = 0; i < n; i++) writeSync(fd, `${Array.from({ length: d }, (_, j) => String(((i * 31 + j * 17) % 1024) / 256 - 2)).join(',')},${i % 10}\n`);
  closeSync(fd);
  const r = node([join(REPO_DIR, 'test/helpers/load-rss.ts'), 'csv', csv]);
  const out = JSON.parse(r.stdout) as { grewBytes: number; seconds: number; error?: string };
  const matrix = 8 * n * d;
  console.log(`| CSV (chunked: above 16 MB) | ${mb(statSync(csv).size)} | ${mb(matrix)} | ${out.error ? `error: ${out.error}` : mb(out.grewBytes)} | ${out.error ? '' : `${mb(out.grewBytes - matrix)} (against the matrix alone)`} | ${out.seconds?.toFixed(1) ?? ''} |`);
  rmSync(csv);
}

async function bombs(): Promise<void> {
  console.log('\n## Bombs at larger sizes (CLI, HESSBOUND_MAX_MEMORY=4, peak RSS of the process)\n');
  console.log('| input | exit | message | peak RSS |');
  console.log('| --- | --- | --- | --- |');
  const cli = (args: string[]) => node([join(REPO_DIR, 'src/cli/main.ts'), ...args, '--quiet'], withMaxRss({ HESSBOUND_MAX_MEMORY: '4', HESSBOUND_BACKEND: 'native' }));
  const row = (what: string, r: ReturnType<typeof cli>) => {
    const message = (/hessbound: error \[([A-Z_]+)\]: ([^\n]{0,90})/.exec(r.stderr) ?? [])[0] ?? '(no error)';
    console.log(`| ${what} | ${r.status} | ${message.replace(/\|/g, '/')} | ${maxRssMb(r.stderr).toFixed(0)} MB |`);
  };
  const bomb = join(dir, 'bomb.npz');
  writeFileSync(bomb, zipDeflated({ 'x.npy': zerosNpy(quick ? 1e9 : 2e9), 'y.npy': zerosNpy(10) }));
  row(`.npz of ${mb(statSync(bomb).size)} declaring ${quick ? '1' : '2'} GB`, cli(['analyze', '--data', bomb, '--hidden', '3']));
  const st = aliasingSafetensors(quick ? 1000 : 10_000, 250_000);
  const alias = join(dir, 'alias.safetensors');
  writeFileSync(alias, st);
  row(`safetensors of ${mb(st.length)}, tensors aliasing one range`, cli(['analyze', '--model', alias, '--dataset', 'iris']));
  // .csv.gz bombs: decompressed as they stream, refused by what they hold, never held whole.
  const rows = join(dir, 'rows.csv.gz');
  const header = `${Array.from({ length: 1000 }, (_, j) => `f${j}`).join(',')}\n`;
  writeFileSync(rows, gzipRepeated(header, `${Array.from({ length: 1000 }, () => '0').join(',')}\n`.repeat(4000), quick ? 1.2e9 : 4e9));
  row(`.csv.gz of ${mb(statSync(rows).size)}: ${quick ? '1.2' : '4'} GB of numeric rows`, cli(['analyze', '--data', rows, '--hidden', '3']));
  const line = join(dir, 'line.csv.gz');
  writeFileSync(line, await gzipOneMember('a,label\n', '1111111111', quick ? 300e6 : 2e9));
  row(`.csv.gz of ${mb(statSync(line).size)}: ${quick ? '300 MB' : '2 GB'} with no line break (one member)`, cli(['analyze', '--data', line, '--hidden', '3']));
  const quoted = join(dir, 'quoted.csv.gz');
  writeFileSync(quoted, gzipRepeated('"a","label"\n', '"1","0"\n'.repeat(500_000), quick ? 500e6 : 2e9));
  row(`.csv.gz of ${mb(statSync(quoted).size)}: ${quick ? '500 MB' : '2 GB'} of quoted rows`, cli(['analyze', '--data', quoted, '--hidden', '3']));
  row('--model /dev/zero', cli(['analyze', '--model', '/dev/zero', '--dataset', 'iris']));
  row('sweep --widths 30000 --depths 3', cli(['sweep', '--dataset', 'iris', '--widths', '30000', '--depths', '3', '--seeds', '1', '--out', join(dir, 'w.csv')]));
}

async function abortLatency(): Promise<void> {
  console.log('\n## AbortSignal during a dense eigensolve (digits, width 40, P = 3,010), native\n');
  const digits = loadDataset('digits');
  const model = randomModel({ inputs: 64, hidden: [40], classes: 10, activation: 'tanh', seed: 0 });
  const latencies: number[] = [];
  for (let round = 0; round < (quick ? 2 : 5); round++) {
    const controller = new AbortController();
    let at = 0;
    const pending = analyze(model, digits, { backend: 'native', method: 'dense', bound: false, signal: controller.signal, onProgress: (f) => {
      if (f >= 0.5 && at === 0) {
        at = performance.now();
        controller.abort();
      }
    } }).catch(() => undefined);
    await pending;
    latencies.push(performance.now() - at);
    // Let the abandoned LAPACK call finish before the next round (it keeps its queue slot).
    await analyze(randomModel({ inputs: 64, hidden: [1], classes: 10, activation: 'tanh', seed: 0 }), digits, { backend: 'native', method: 'dense', bound: false });
  }
  console.log(`time from abort() to the rejection: ${latencies.map((l) => `${l.toFixed(1)} ms`).join(', ')} (before: 35-39 s reported in issue 22; 5.6 s measured here for this size)`);
}

const machine = await machineInfo();
console.log(`# Abuse suite, long mode${quick ? ' (--quick)' : ''}\n`);
printMachine(machine);
console.log('SIMD path: not exercised by loading or refusals; the native kernel reports: ' + (machine.nativeLinalg ?? 'not loaded'));
console.log('The machine is shared with other engineers\' builds and tests (see the load average): memory figures are per process, times are indicative.');
await dataAtScale();
await bombs();
await abortLatency();
rmSync(dir, { recursive: true, force: true });
