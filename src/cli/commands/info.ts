/** hessbound info: the version, which backend runs, and why the native addon did not load (if so). */
import { infoReport } from '../about.js';
import { parse } from '../args.js';
import { onBackendFallback } from '../../backend/select.js';
import type { Subcommand } from '../registry.js';

export { versionLine } from '../about.js';

const HELP = `hessbound info — which backend runs and why

Usage: hessbound info [--json]

Prints the version, the backend commands use (native addon or WebAssembly), the native addon's file,
its OpenBLAS threads and linkage (static in the prebuilt addon), and, when the native addon does not
load, the reason. HESSBOUND_BACKEND=native|wasm|wasm-threads forces a backend; OPENBLAS_NUM_THREADS sets threads.`;

async function run(argv: string[]): Promise<void> {
  const values = parse(argv, { json: { type: 'boolean' } } as const);
  onBackendFallback(undefined); // the report itself says why native did not load
  process.stdout.write(`${await infoReport(values['json'] === true)}\n`);
}

export const infoCommand: Subcommand = { name: 'info', summary: 'version, backend in use, and why native did not load', help: HELP, run };
