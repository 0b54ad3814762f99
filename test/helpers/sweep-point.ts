/** Child process for thread-count tests: runs one sweep point (argv: dataset width seed) and prints its row. */
import { loadDataset } from '../../src/node/datasets.js';
import { loadDatasetById } from '../../src/sweep/dataset-id.js';
import { runPoint } from '../../src/sweep/run-point.js';

const [dataset = 'wine', width = '4', seed = '0'] = process.argv.slice(2);
const r = await runPoint({ dataset, width: Number(width), seed: Number(seed) }, { backend: 'native', loadData: (id) => loadDatasetById(id, (n) => loadDataset(n)) });
const { seconds: _s, secondsTrain: _t, secondsBound: _b, secondsLambdaMax: _l, ...row } = r.result;
process.stdout.write(`${JSON.stringify(row)}\n`);
