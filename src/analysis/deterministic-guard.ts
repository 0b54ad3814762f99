/**
 * A kernel built before the `deterministic` analyze option existed ignores it (the kernel skips
 * options it does not know) and silently answers with the thread-dependent BLAS path: a stale
 * build/Release addon did exactly that. The kernel echoes the option, so its absence is caught.
 */
import { HessboundError } from '../errors.js';

export function assertDeterministicHonoured(asked: boolean | undefined, echoed: boolean | undefined, backend: string): void {
  if (!asked || echoed === true) return;
  throw new HessboundError(
    'BACKEND',
    `the ${backend} kernel ignored the deterministic option: it was built from older sources than this library`,
    backend === 'native'
      ? 'rebuild the addon (npm run build:native) or point HESSBOUND_ADDON at a current build'
      : 'rebuild the WebAssembly kernel (npm run build:wasm)',
  );
}
