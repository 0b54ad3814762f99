/**
 * BullMQ and ioredis are optional peers: loaded on first use by the queue, with an error naming
 * what to install when they are missing (the installed-package case is in pack-install.test.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HessboundError } from '../src/errors.js';
import { loadQueuePeers, QUEUE_PEERS } from '../src/queue/peers.js';
import { ROOT } from './helpers/cli.js';

function notFound(name: string): Error {
  return Object.assign(new Error(`Cannot find package '${name}' imported from /somewhere/node_modules/hessbound/dist/src/queue/peers.js`), { code: 'ERR_MODULE_NOT_FOUND' });
}

async function failure(importer: (name: string) => Promise<unknown>): Promise<HessboundError> {
  try {
    await loadQueuePeers(importer);
  } catch (error) {
    return error as HessboundError;
  }
  throw new Error('expected the load to fail');
}

describe('the queue loads bullmq and ioredis only when used', () => {
  it('names both packages, with versions, when neither is installed', async () => {
    const error = await failure((name) => Promise.reject(notFound(name)));
    expect(error).toBeInstanceOf(HessboundError);
    expect(error.code).toBe('BACKEND');
    expect(error.message).toMatch(/the queue needs the packages bullmq and ioredis, which are not installed/);
    expect(error.hint).toContain(`npm install bullmq@${QUEUE_PEERS.bullmq} ioredis@${QUEUE_PEERS.ioredis}`);
  });

  it('names only ioredis when bullmq is there but fails for want of it', async () => {
    const error = await failure(() => Promise.reject(notFound('ioredis')));
    expect(error.message).toMatch(/needs the package ioredis, which is not installed/);
    expect(error.hint).toMatch(/^npm install ioredis@/);
  });

  it('passes other failures through unchanged', async () => {
    const broken = new SyntaxError('Unexpected token in bullmq');
    await expect(loadQueuePeers((name) => (name === 'bullmq' ? Promise.reject(broken) : Promise.resolve({})))).rejects.toBe(broken);
  });

  it('loads the real packages (installed here as devDependencies)', async () => {
    const peers = await loadQueuePeers();
    expect(typeof peers.bullmq.Queue).toBe('function');
    expect(typeof peers.ioredis.Redis).toBe('function');
  });

  it('package.json lists them as optional peers, not dependencies, with the ranges the message gives', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, Record<string, unknown>>;
    expect(pkg['peerDependencies']).toEqual(QUEUE_PEERS);
    for (const name of Object.keys(QUEUE_PEERS)) {
      expect(pkg['peerDependenciesMeta']![name]).toEqual({ optional: true });
      expect(pkg['dependencies']![name]).toBeUndefined();
    }
  });
});
