/**
 * The per-platform addon packages (the napi-rs / sharp layout): `hessbound` lists them as
 * optionalDependencies, and npm installs only the one whose os/cpu/libc fields match the machine.
 * Each package's main file is the stripped, self-contained addon.
 */
import { createRequire } from 'node:module';

/** The platforms with a prebuilt addon package (scripts/pack-all.mjs builds every one). */
export const PLATFORM_PACKAGES = {
  'linux-x64-gnu': { os: 'linux', cpu: 'x64', libc: 'glibc' },
  'linux-arm64-gnu': { os: 'linux', cpu: 'arm64', libc: 'glibc' },
} as const;
export type PlatformTarget = keyof typeof PLATFORM_PACKAGES;

/** The npm name of a platform's addon package. */
export const platformPackageName = (target: string): string => `@hessbound/${target}`;

/** 'gnu' when Node runs on glibc, 'musl' otherwise (Node's report names the glibc it runs on). */
function linuxLibc(): 'gnu' | 'musl' {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header?.glibcVersionRuntime ? 'gnu' : 'musl';
}

/** This process's target, e.g. 'linux-x64-gnu' (platform-arch, plus the C library on Linux). */
export function currentTarget(): string {
  const base = `${process.platform}-${process.arch}`;
  return process.platform === 'linux' ? `${base}-${linuxLibc()}` : base;
}

/**
 * The addon file of the installed platform package for this machine, or why there is none
 * (no package is published for this platform, or npm did not install it).
 */
export function platformAddon(): { path: string } | { reason: string } {
  const target = currentTarget();
  if (!(target in PLATFORM_PACKAGES)) return { reason: `no prebuilt addon package exists for ${target}` };
  const name = platformPackageName(target);
  try {
    return { path: createRequire(import.meta.url).resolve(name) };
  } catch {
    return { reason: `${name} is not installed (npm skips optional dependencies with --omit=optional or --no-optional)` };
  }
}
