/**
 * A plain Redis connection that fails fast: BullMQ's own connections retry a refused connection
 * forever, so both ends first connect once (no retries) and PING, to say clearly when the queue is
 * unreachable. The same connection then stores or fetches file data (content-data.ts).
 */
import type { Redis } from 'ioredis';
import { fail } from '../errors.js';
import { redact, redisOptions, type QueueConnection } from './connection.js';
import { loadQueuePeers } from './peers.js';

export async function connectOnce(connection: QueueConnection, timeoutMs = 10_000): Promise<Redis> {
  const { Redis: RedisClient } = (await loadQueuePeers()).ioredis;
  const redis = new RedisClient({ ...redisOptions(connection), lazyConnect: true, connectTimeout: timeoutMs, retryStrategy: () => null, maxRetriesPerRequest: 1 });
  // The socket error (e.g. ECONNREFUSED) says more than the failed command ("Connection is closed").
  let cause: Error | undefined;
  redis.on('error', (error: Error) => (cause ??= error));
  try {
    await redis.connect();
    await redis.ping();
    return redis;
  } catch (error) {
    redis.disconnect();
    return fail('IO', `cannot reach the queue at ${connection.display}: ${redact((cause ?? (error as Error)).message, connection)}`, 'is redis-server running there, and are host, port and password right?');
  }
}
