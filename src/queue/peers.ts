/**
 * BullMQ and ioredis are optional peer dependencies: only the queue (`hessbound/queue`,
 * `hessbound worker`, `sweep --queue`) needs them, so the default install goes without. They are
 * imported here on first use; when they are missing, the error names what to install.
 */
import { HessboundError } from '../errors.js';

/** The ranges in package.json's peerDependencies (test/queue-peers.test.ts keeps them equal). */
export const QUEUE_PEERS = { bullmq: '^6.7.0', ioredis: '^5.11.1' } as const;

export interface QueuePeers {
  bullmq: typeof import('bullmq');
  ioredis: typeof import('ioredis');
}

type Importer = (name: keyof typeof QUEUE_PEERS) => Promise<unknown>;

// A computed specifier keeps bundlers from pulling the queue's packages into every build.
const importPackage: Importer = (name) => import(name);

function missingPackage(error: unknown, name: string): boolean {
  const e = error as { code?: string; message?: string };
  return (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') && String(e.message).includes(`'${name}'`);
}

let loaded: Promise<QueuePeers> | undefined;

/** Both packages, or a BACKEND error saying which are missing and how to add them. */
export function loadQueuePeers(importer: Importer = importPackage): Promise<QueuePeers> {
  if (importer !== importPackage) return load(importer);
  loaded ??= load(importer);
  loaded.catch(() => (loaded = undefined)); // not cached: they may be installed later
  return loaded;
}

async function load(importer: Importer): Promise<QueuePeers> {
  const names = Object.keys(QUEUE_PEERS) as (keyof typeof QUEUE_PEERS)[];
  const results = await Promise.allSettled(names.map((name) => importer(name)));
  // bullmq without ioredis fails inside bullmq, naming ioredis: collect names from every failure.
  const missing = names.filter((name) => results.some((r) => r.status === 'rejected' && missingPackage(r.reason, name)));
  if (missing.length > 0) {
    const install = missing.map((name) => `${name}@${QUEUE_PEERS[name]}`).join(' ');
    throw new HessboundError(
      'BACKEND',
      `the queue needs the package${missing.length > 1 ? 's' : ''} ${missing.join(' and ')}, which ${missing.length > 1 ? 'are' : 'is'} not installed`,
      `npm install ${install} (optional peer dependencies of hessbound: only hessbound/queue, 'hessbound worker' and 'sweep --queue' use them)`,
    );
  }
  const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
  if (failed) throw failed.reason;
  const [bullmq, ioredis] = results.map((r) => (r as PromiseFulfilledResult<unknown>).value);
  return { bullmq: bullmq as QueuePeers['bullmq'], ioredis: ioredis as QueuePeers['ioredis'] };
}
