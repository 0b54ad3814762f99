/** Helpers of the abuse suite: peak memory of spawned CLI processes, timing. */
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

import { crc32, deflateRawSync } from 'node:zlib';

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
