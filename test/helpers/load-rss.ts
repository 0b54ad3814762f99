/**
 * Child-process probe for test/data-scale.test.ts and bench/data-scale.ts: loads a data set from
 * files the way the CLI does and prints, as JSON, its shape and how much the peak RSS grew while
 * loading (the baseline is taken after the imports).
 */
import { readDataArrayFiles, readBinaryDataFile } from '../../src/node/format-files.js';
import { readDataFile } from '../../src/node/datasets.js';
import { installNodeMemoryBudget } from '../../src/node/memory-budget.js';

// As the CLI and the library entry do (HESSBOUND_MAX_MEMORY caps it).
installNodeMemoryBudget();

const [kind, a, b] = process.argv.slice(2);
const before = process.resourceUsage().maxRSS * 1024;
const started = performance.now();
try {
  const data = kind === 'npy' ? readDataArrayFiles(a as string, b as string) : kind === 'csv' ? readDataFile(a as string) : readBinaryDataFile(a as string);
  const after = process.resourceUsage().maxRSS * 1024;
  // A checksum, so the test can compare with the values it wrote.
  let sum = 0;
  for (let i = 0; i < data.x.length; i += 997) sum += data.x[i] as number;
  process.stdout.write(`${JSON.stringify({ n: data.n, d: data.d, classes: data.classes, grewBytes: after - before, seconds: (performance.now() - started) / 1000, sum, first: data.x[0], last: data.x[data.x.length - 1] })}\n`);
} catch (error) {
  process.stdout.write(`${JSON.stringify({ error: (error as Error).message, code: (error as { code?: string }).code, grewBytes: process.resourceUsage().maxRSS * 1024 - before })}\n`);
}
