/** The CPU and the native kernel's SIMD paths it runs (native/kernel/linalg/simd_path.hpp), for bench output. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

function cpuInfo(): string {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return '';
  }
}

/** The paths this CPU runs, best first (HESSBOUND_SIMD can pick each). */
export function runnableSimdPaths(): string[] {
  const info = cpuInfo();
  const avx512 = /\bavx512f\b/.test(info);
  const avx2 = /\bavx2\b/.test(info) && /\bfma\b/.test(info);
  return [...(avx512 ? ['avx512'] : []), ...(avx2 ? ['avx2'] : []), 'generic'];
}

/** "model name (vendor, family f model m; AVX2+FMA yes, AVX-512F yes; hypervisor)". */
export function cpuDescription(): string {
  const info = cpuInfo();
  const field = (name: string): string => info.split('\n').find((l) => l.startsWith(name))?.split(':')[1]?.trim() ?? '?';
  const paths = runnableSimdPaths();
  const hypervisor = /\bhypervisor\b/.test(info) ? '; virtual machine' : '';
  return `${field('model name')} (${field('vendor_id')}, family ${field('cpu family')} model ${field('model')}; ` +
    `AVX2+FMA ${paths.includes('avx2') ? 'yes' : 'no'}, AVX-512F ${paths.includes('avx512') ? 'yes' : 'no'}${hypervisor})`;
}

/** The kernel set the system OpenBLAS picks on this CPU (openblas_get_corename; what PyTorch and numpy run), or why unknown; coretype: as OPENBLAS_CORETYPE. */
export function openblasCore(python: string, coretype?: string): string {
  const script = `
import ctypes, ctypes.util, glob
paths = glob.glob('/usr/lib/*/openblas-pthread/libopenblas*.so*') + glob.glob('/usr/lib/*/libopenblas*.so*')
lib = ctypes.CDLL(paths[0]); lib.openblas_get_corename.restype = ctypes.c_char_p
print(lib.openblas_get_corename().decode())`;
  // Unset, as the benches' peers run (an empty OPENBLAS_CORETYPE makes OpenBLAS 0.3.21 pick other kernels).
  const env = { ...process.env };
  delete env['OPENBLAS_CORETYPE'];
  if (coretype) env['OPENBLAS_CORETYPE'] = coretype;
  const r = spawnSync(python, ['-c', script], { encoding: 'utf8', env });
  return r.status === 0 ? r.stdout.trim() : 'unknown';
}
