/**
 * Bench G, sweep part (issue 14): the digits sweep subset (widths 16, 64, 256, 1024 x seeds 0..2,
 * tanh, the sweep's defaults, 1 worker) run by a tree's CLI, summarized from its CSV: wall time and
 * the training share. Run it in the tree to time (its dist/ and build/ are used):
 *
 *   /usr/bin/time -f '%e' node dist/src/cli/main.js sweep --dataset digits --widths 16,64,256,1024 \
 *     --seeds 3 --workers 1 --out OUT.csv --overwrite --quiet --backend native --json > OUT.json
 *   node --import tsx bench/training-sweep.ts LABEL:OUT.csv[:WALL_SECONDS] [LABEL:OUT.csv[:WALL] ...]
 *
 * Prints a markdown table: per width, the median over seeds of the training time; the sums; and
 * the points' stop reasons, training steps and losses (the same protocol points before and after).
 */
import { readFileSync } from 'node:fs';

import { median } from './lib/stats.js';

interface Row { width: number; seed: number; secondsTrain: number; seconds: number; stopReason: string; trainSteps: number; loss: number; lambdaMax: number }

function readCsv(path: string): Row[] {
  const [head, ...lines] = readFileSync(path, 'utf8').trim().split('\n');
  const cols = (head as string).split(',');
  const at = (name: string): number => cols.indexOf(name);
  return lines.map((line) => {
    const f = line.split(',');
    return {
      width: Number(f[at('width')]), seed: Number(f[at('seed')]), secondsTrain: Number(f[at('secondsTrain')]), seconds: Number(f[at('seconds')]),
      stopReason: f[at('stopReason')] as string, trainSteps: Number(f[at('trainSteps')]), loss: Number(f[at('loss')]), lambdaMax: Number(f[at('lambdaMax')]),
    };
  });
}

const runs = process.argv.slice(2).map((arg) => {
  const [label, path, wall] = arg.split(':');
  return { label: label as string, rows: readCsv(path as string), wall: Number(wall) };
});
const widths = [...new Set(runs.flatMap((r) => r.rows.map((x) => x.width)))].sort((a, b) => a - b);
console.log(`| | ${runs.map((r) => r.label).join(' | ')} |`);
console.log(`| --- | ${runs.map(() => '---:').join(' | ')} |`);
console.log(`| sweep wall time (whole process) | ${runs.map((r) => (Number.isFinite(r.wall) ? `${r.wall.toFixed(1)} s` : 'not measured')).join(' | ')} |`);
console.log(`| sum of the point times | ${runs.map((r) => `${r.rows.reduce((s, x) => s + x.seconds, 0).toFixed(1)} s`).join(' | ')} |`);
console.log(`| of which training | ${runs.map((r) => {
  const t = r.rows.reduce((s, x) => s + x.secondsTrain, 0);
  return `${t.toFixed(1)} s (${((100 * t) / r.rows.reduce((s, x) => s + x.seconds, 0)).toFixed(0)}%)`;
}).join(' | ')} |`);
for (const w of widths)
  console.log(`| width ${w}: training, median of the seeds | ${runs.map((r) => `${median(r.rows.filter((x) => x.width === w).map((x) => x.secondsTrain)).toFixed(2)} s`).join(' | ')} |`);
console.log();
console.log(`| width | seed | ${runs.map((r) => `${r.label}: stop, steps, loss, lambda_max`).join(' | ')} |`);
console.log(`| ---: | ---: | ${runs.map(() => '---').join(' | ')} |`);
for (const row of runs[0]?.rows ?? [])
  console.log(`| ${row.width} | ${row.seed} | ${runs.map((r) => {
    const x = r.rows.find((y) => y.width === row.width && y.seed === row.seed);
    return x ? `${x.stopReason}, ${x.trainSteps}, ${x.loss.toPrecision(6)}, ${x.lambdaMax.toPrecision(6)}` : 'missing';
  }).join(' | ')} |`);
