/**
 * Which kernel builds a bench ran: the native addon's and the WebAssembly module's file times, and
 * whether a kernel source is newer than either (then the figures are not those of the sources).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

import { REPO_DIR } from './peer.js';

export interface BuildStamps {
  addon: string | null;
  wasm: string | null;
  /** The files, when HESSBOUND_ADDON / HESSBOUND_WASM_DIR point elsewhere. */
  addonPath?: string;
  wasmPath?: string;
  /** The newest file under native/ (kernel, binding) and wasm/capi.cpp, and its time. */
  newestSource: { file: string; time: string } | null;
  /** Sources newer than the addon / the wasm module. */
  staleAddon: boolean;
  staleWasm: boolean;
}

// The same overrides as src/backend/native.ts and src/backend/wasm-loader-node.ts.
const ADDON = process.env['HESSBOUND_ADDON'] ?? join(REPO_DIR, 'build', 'Release', 'hessbound.node');
const WASM = join(process.env['HESSBOUND_WASM_DIR'] ?? join(REPO_DIR, 'wasm', 'dist'), 'hessbound-wasm.wasm');
/** Builds from elsewhere (a snapshot of a commit, say): this tree's sources say nothing about them. */
const OVERRIDDEN = { addon: process.env['HESSBOUND_ADDON'] !== undefined, wasm: process.env['HESSBOUND_WASM_DIR'] !== undefined };

function mtime(path: string): number | null {
  return existsSync(path) ? statSync(path).mtimeMs : null;
}

function newest(dir: string): { path: string; t: number } | null {
  let best: { path: string; t: number } | null = null;
  if (!existsSync(dir)) return null;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    const cand = e.isDirectory() ? newest(p) : /\.(c|cc|cpp|h|hpp)$/.test(e.name) ? { path: p, t: statSync(p).mtimeMs } : null;
    if (cand && (!best || cand.t > best.t)) best = cand;
  }
  return best;
}

export function buildStamps(): BuildStamps {
  const a = mtime(ADDON);
  const w = mtime(WASM);
  const candidates = [newest(join(REPO_DIR, 'native')), existsSync(join(REPO_DIR, 'wasm', 'capi.cpp')) ? { path: join(REPO_DIR, 'wasm', 'capi.cpp'), t: statSync(join(REPO_DIR, 'wasm', 'capi.cpp')).mtimeMs } : null];
  const src = candidates.reduce<{ path: string; t: number } | null>((b, c) => (c && (!b || c.t > b.t) ? c : b), null);
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
    addon: iso(a),
    wasm: iso(w),
    newestSource: src ? { file: relative(REPO_DIR, src.path), time: new Date(src.t).toISOString() } : null,
    staleAddon: !OVERRIDDEN.addon && a !== null && src !== null && src.t > a,
    staleWasm: !OVERRIDDEN.wasm && w !== null && src !== null && src.t > w,
    ...(OVERRIDDEN.addon ? { addonPath: ADDON } : {}),
    ...(OVERRIDDEN.wasm ? { wasmPath: WASM } : {}),
  };
}

export function printBuildStamps(b: BuildStamps, wasm: boolean): void {
  const src = b.newestSource ? `; newest kernel source ${b.newestSource.file} ${b.newestSource.time}` : '';
  const where = (p?: string) => (p ? ` (${p})` : '');
  console.log(
    `builds: native addon ${b.addon ?? 'missing'}${where(b.addonPath)}${wasm ? `, wasm module ${b.wasm ?? 'missing'}${where(b.wasmPath)}` : ''}${src}`,
  );
  if (b.staleAddon || (wasm && b.staleWasm))
    console.log(
      `  WARNING: kernel sources are newer than the ${[b.staleAddon ? 'native addon' : '', wasm && b.staleWasm ? 'wasm module' : ''].filter(Boolean).join(' and ')}: ` +
        'the figures are those of the builds, not of the current sources',
    );
}
