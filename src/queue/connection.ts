/**
 * Where the queue lives: a redis:// or rediss:// (TLS) URL, with the password in the URL or in
 * HESSBOUND_REDIS_PASSWORD. Parsed with the WHATWG URL parser; everything printed goes through
 * `display` / `redact`, so a password never reaches logs or progress output.
 */
import type { RedisOptions } from 'bullmq';
import { fail } from '../errors.js';

export const PASSWORD_ENV = 'HESSBOUND_REDIS_PASSWORD';

export interface QueueConnection {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
  /** The URL with any password replaced by ***: the only form that is ever printed. */
  display: string;
}

const URL_HINT = 'e.g. redis://localhost:6379/0, rediss://user:PASSWORD@host:6380/0 (TLS), or the password in HESSBOUND_REDIS_PASSWORD';

export function parseQueueUrl(text: string, env: NodeJS.ProcessEnv = process.env): QueueConnection {
  if (typeof text !== 'string' || text.trim() === '') fail('BAD_OPTION', 'no queue URL given', URL_HINT);
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    // The text may hold a password: say what is wrong without echoing it.
    return fail('BAD_OPTION', 'the queue URL cannot be parsed', URL_HINT);
  }
  const password = url.password ? decodeURIComponent(url.password) : env[PASSWORD_ENV] || undefined;
  const username = url.username ? decodeURIComponent(url.username) : undefined;
  const tls = url.protocol === 'rediss:';
  const display = displayUrl(url);
  if (url.protocol !== 'redis:' && !tls) fail('BAD_OPTION', `the queue URL ${display} is not a redis:// or rediss:// URL`, URL_HINT);
  if (!url.hostname) fail('BAD_OPTION', `the queue URL ${display} has no host`, URL_HINT);
  const port = url.port === '' ? 6379 : Number(url.port);
  const path = url.pathname.replace(/^\//, '');
  const db = path === '' ? 0 : Number(path);
  if (!/^\d*$/.test(path) || !Number.isSafeInteger(db)) fail('BAD_OPTION', `the database in the queue URL ${display} must be a number (the path, e.g. /0)`, URL_HINT);
  if (url.search || url.hash) fail('BAD_OPTION', `the queue URL ${display} has a query or fragment; hessbound reads only host, port, database, user and password`, URL_HINT);
  return {
    // IPv6 hosts come bracketed from URL.
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    db,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    tls,
    display,
  };
}

function displayUrl(url: URL): string {
  const user = url.username ? decodeURIComponent(url.username) : '';
  const auth = url.password ? `${user}:***@` : user ? `${user}@` : '';
  return `${url.protocol}//${auth}${url.host}${url.pathname === '/' ? '' : url.pathname}`;
}

/** Replaces the password (raw and percent-encoded) wherever it occurs, e.g. in an error message. */
export function redact(text: string, connection: Pick<QueueConnection, 'password'>): string {
  const secret = connection.password;
  if (!secret) return text;
  return [secret, encodeURIComponent(secret)].reduce((t, s) => t.split(s).join('***'), text);
}

/** ioredis options; maxRetriesPerRequest null is what BullMQ requires of its connections. */
export function redisOptions(connection: QueueConnection): RedisOptions {
  return {
    host: connection.host,
    port: connection.port,
    db: connection.db,
    ...(connection.username ? { username: connection.username } : {}),
    ...(connection.password ? { password: connection.password } : {}),
    ...(connection.tls ? { tls: { servername: connection.host } } : {}),
    maxRetriesPerRequest: null,
  };
}
