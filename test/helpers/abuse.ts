/**
 * Helpers of the abuse suite (test/abuse-*.test.ts) and its longer mode (bench/abuse.ts): peak
 * memory of spawned CLI processes, and the bombs: zip and gzip archives that expand far beyond their
 * size, .npy headers declaring huge arrays, safetensors whose tensors alias one range.
 */
import { join } from 'node:path';
import { ROOT } from './cli.js';

/** Env for a spawned CLI process that prints its peak RSS at exit (maxrss.mjs). */
export function withMaxRss(env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const preload = `--import ${join(ROOT, 'test/helpers/maxrss.mjs')}`;
  return { ...env, NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} ${preload}`.trim() };
}

/** The peak RSS in MB a process printed at exit (NaN when it printed none). */
export function maxRssMb(output: string): number {
  const m = /MAXRSS_KB (\d+)/.exec(output);
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

import { createGzip, crc32, deflateRawSync, gzipSync } from 'node:zlib';

/** A zip archive (deflated members) built with Node's zlib: fast for members of hundreds of MB of zeros. */
export function zipDeflated(members: Record<string, Uint8Array>): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of Object.entries(members)) {
    const packed = deflateRawSync(data, { level: 1 });
    const nameBytes = Buffer.from(name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE(20, 4);
    entry.writeUInt16LE(20, 6);
    entry.writeUInt16LE(8, 10);
    entry.writeUInt32LE(crc, 16);
    entry.writeUInt32LE(packed.length, 20);
    entry.writeUInt32LE(data.length, 24);
    entry.writeUInt16LE(nameBytes.length, 28);
    entry.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, packed);
    central.push(entry, nameBytes);
    offset += 30 + nameBytes.length + packed.length;
  }
  const dir = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(members).length, 8);
  end.writeUInt16LE(Object.keys(members).length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}

/** A .npy of `bytes` zero bytes (u1), built without a large JS array. */
export function zerosNpy(bytes: number): Uint8Array {
  let header = `{'descr': '|u1', 'fortran_order': False, 'shape': (${bytes},), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const out = new Uint8Array(10 + header.length + bytes);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  return out;
}

/** A safetensors file of `tensors` F32 tensors of `count` values, every one over the same byte range. */
export function aliasingSafetensors(tensors: number, count: number, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = Object.keys(metadata).length > 0 ? { __metadata__: metadata } : {};
  for (let i = 0; i < tensors; i++) header[`t${i}`] = { dtype: 'F32', shape: [count], data_offsets: [0, 4 * count] };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const bytes = new Uint8Array(8 + json.length + 4 * count);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
  bytes.set(json, 8);
  return bytes;
}

/**
 * A gzip file of `head` then `body` repeated until the text is about `bytes` long: `body` (a few MB)
 * is compressed once and its member repeated (gzip allows members end to end, as `cat a.gz b.gz`
 * makes), so a gigabyte costs milliseconds to build and a few hundred kB on disk.
 */
export function gzipRepeated(head: string, body: string, bytes: number): Buffer {
  const member = gzipSync(Buffer.from(body), { level: 9 });
  const copies = Math.max(1, Math.ceil((bytes - head.length) / Buffer.byteLength(body)));
  return Buffer.concat([gzipSync(Buffer.from(head)), ...Array.from({ length: copies }, () => member)]);
}

/** One gzip member of `head` then `fill` repeated up to about `bytes`, compressed as a stream (little memory). */
export async function gzipOneMember(head: string, fill: string, bytes: number): Promise<Buffer> {
  const gzip = createGzip({ level: 1 });
  const out: Buffer[] = [];
  gzip.on('data', (chunk: Buffer) => out.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    gzip.on('end', resolve);
    gzip.on('error', reject);
  });
  const block = Buffer.from(fill.repeat(Math.max(1, Math.floor((1 << 22) / fill.length))));
  gzip.write(head);
  for (let written = head.length; written < bytes; written += block.length) {
    if (!gzip.write(block)) await new Promise((resolve) => gzip.once('drain', resolve));
  }
  gzip.end();
  await ended;
  return Buffer.concat(out);
}
