/** Queue URLs: redis:// and rediss://, passwords from the URL or the environment, never printed. */
import { describe, expect, it } from 'vitest';
import { HessboundError } from '../src/errors.js';
import { parseQueueUrl, redact, redisOptions } from '../src/queue/connection.js';
import { errorFromReason, failureReason, validateQueueJob, queueJobData } from '../src/queue/job-data.js';
import { makeJob } from '../src/sweep/job.js';
import { runCliAsync } from './helpers/queue-procs.js';

describe('parseQueueUrl', () => {
  it('reads host, port, database and TLS', () => {
    expect(parseQueueUrl('redis://localhost:6379/0', {})).toEqual({ host: 'localhost', port: 6379, db: 0, tls: false, display: 'redis://localhost:6379/0' });
    expect(parseQueueUrl('redis://queue.example', {})).toMatchObject({ host: 'queue.example', port: 6379, db: 0 });
    expect(parseQueueUrl('rediss://10.0.0.5:6380/3', {})).toMatchObject({ host: '10.0.0.5', port: 6380, db: 3, tls: true });
    expect(parseQueueUrl('redis://[::1]:7000/2', {})).toMatchObject({ host: '::1', port: 7000, db: 2 });
    expect(redisOptions(parseQueueUrl('rediss://h:1/0', {}))).toMatchObject({ host: 'h', port: 1, db: 0, tls: { servername: 'h' }, maxRetriesPerRequest: null });
    expect(redisOptions(parseQueueUrl('redis://h:1/0', {}))).not.toHaveProperty('tls');
  });

  it('takes the password from the URL, else HESSBOUND_REDIS_PASSWORD, and never displays it', () => {
    const fromUrl = parseQueueUrl('redis://alice:s%40cret@host:6379/1', { HESSBOUND_REDIS_PASSWORD: 'other' });
    expect(fromUrl).toMatchObject({ username: 'alice', password: 's@cret', display: 'redis://alice:***@host:6379/1' });
    const fromEnv = parseQueueUrl('redis://host:6379/1', { HESSBOUND_REDIS_PASSWORD: 'hunter2' });
    expect(fromEnv).toMatchObject({ password: 'hunter2', display: 'redis://host:6379/1' });
    expect(redisOptions(fromEnv)).toMatchObject({ password: 'hunter2' });
    expect(redact('auth failed for hunter2 (hunter2)', fromEnv)).toBe('auth failed for *** (***)');
    expect(redact('s%40cret and s@cret', fromUrl)).toBe('*** and ***');
  });

  it('refuses other URLs with a hint, without echoing a password', () => {
    const cases: [string, RegExp][] = [
      ['http://host:6379', /not a redis:\/\/ or rediss:\/\/ URL/],
      ['localhost:6379', /not a redis/],
      ['not a url', /cannot be parsed/],
      ['redis://:pw@host:99999/0', /cannot be parsed/],
      ['redis://:pw@host:6379/zero', /database .* must be a number/],
      ['redis://:pw@host:6379/0?tls=1', /query or fragment/],
      ['', /no queue URL given/],
    ];
    for (const [url, message] of cases) {
      let error: unknown;
      try {
        parseQueueUrl(url, {});
      } catch (e) {
        error = e;
      }
      expect(error, url).toBeInstanceOf(HessboundError);
      expect((error as HessboundError).code).toBe('BAD_OPTION');
      expect((error as HessboundError).message, url).toMatch(message);
      expect((error as HessboundError).hint).toMatch(/redis:\/\/localhost:6379\/0/);
      expect((error as HessboundError).message).not.toMatch(/pw@/);
    }
  });
});

describe('queue job data', () => {
  const job = makeJob({ dataset: 'Iris', width: 4, seed: 2 });
  it('accepts what the coordinator sends and recomputes the key', () => {
    // The job id includes the backend the job names (a native and a wasm point never share a job).
    expect(validateQueueJob(queueJobData(job, 'wasm'), `${job.key}-wasm`)).toEqual({ key: job.key, spec: job.spec, backend: 'wasm' });
    expect(() => validateQueueJob(queueJobData(job, 'wasm'), job.key)).toThrow(/should have the id [0-9a-f]{16}-wasm/);
  });
  it('refuses foreign, malformed or mislabelled jobs', () => {
    const bad: [unknown, string | undefined, RegExp][] = [
      [null, 'a', /is not an object/],
      [{ format: 'bull', spec: job.spec, key: job.key }, job.key, /has format "bull"/],
      [{ ...queueJobData(job), extra: 1 }, job.key, /unknown field\(s\) extra/],
      [{ ...queueJobData(job), spec: { ...job.spec, lr: -1 } }, job.key, /invalid spec: lr must be a positive number/],
      [{ ...queueJobData(job), key: '0123456789abcdef' }, job.key, /carries key 0123456789abcdef, but/],
      [queueJobData(job), 'another-id', /should have the id/],
      [{ ...queueJobData(job), backend: 'gpu' }, job.key, /asks for an unknown backend/],
    ];
    for (const [data, id, message] of bad) expect(() => validateQueueJob(data, id)).toThrow(message);
  });
  it('round-trips error codes through BullMQ failure reasons', () => {
    const original = new HessboundError('TOO_LARGE', 'too big', 'use a smaller width');
    const e = errorFromReason(failureReason(original));
    expect([e.code, e.message, e.hint]).toEqual(['TOO_LARGE', original.message, 'use a smaller width']);
    expect(errorFromReason('job stalled more than allowable limit').code).toBe('KERNEL');
  });
});

describe('hessbound worker / sweep --queue errors', () => {
  it('needs --queue, refuses --workers with --queue, and hides the password when Redis is unreachable', async () => {
    const none = await runCliAsync(['worker']);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/no --queue given[\s\S]*hint: e\.g\. hessbound worker --queue redis:/);
    const both = await runCliAsync(['sweep', '--dataset', 'iris', '--widths', '4', '--seeds', '1', '--queue', 'redis://127.0.0.1:1/0', '--workers', '2']);
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/--workers does not apply with --queue/);
    // Port 1 on loopback: nothing listens there.
    const worker = await runCliAsync(['worker', '--queue', 'redis://:hunter2@127.0.0.1:1/0']);
    expect(worker.status).toBe(1);
    expect(worker.stderr).toMatch(/\[IO\]: cannot reach the queue at redis:\/\/:\*\*\*@127\.0\.0\.1:1\/0/);
    const sweep = await runCliAsync(['sweep', '--dataset', 'iris', '--widths', '4', '--seeds', '1', '--queue', 'redis://127.0.0.1:1/0', '--out', '/tmp/hb-never.csv'], { HESSBOUND_REDIS_PASSWORD: 'hunter2' });
    expect(sweep.status).toBe(1);
    expect(sweep.stderr).toMatch(/cannot reach the queue at redis:\/\/127\.0\.0\.1:1\/0/);
    for (const r of [worker, sweep]) expect(r.stdout + r.stderr).not.toMatch(/hunter2/);
  });
});
