/**
 * Seeded fuzzing of the three parsers users feed files to: CSV, JSON data and JSON models. Each
 * gets a few thousand inputs (mutations of valid files plus generated structures); every input
 * must give either a well-formed result or a HessboundError with a code and a hint, never another
 * exception (TypeError, RangeError, a hang). Deterministic: fixed seeds.
 */
import { describe, expect, it } from 'vitest';
import { parseCsv, parseDataJson } from '../src/data.js';
import { HessboundError } from '../src/errors.js';
import { parseModelJson } from '../src/model.js';
import { createRng, type Rng } from '../src/rng.js';
import type { Dataset, Model } from '../src/types.js';

const INPUTS = 3000;

const TOKENS = [',', ';', '\t', '"', '""', '\n', '\r\n', '\r', ' ', '-', '+', '.', 'e', 'E', '1e308', '1e309', '-0', 'NaN', 'nan', 'Infinity',
  '4294967297', '99999', '0x10', '1_000', '\uFEFF', '\u0000', 'é', '😀', '[', ']', '{', '}', ':', 'null', 'true', '"x"', '[[', ']]', '0.5', '3', '2', '1', '0'];

function mutate(rng: Rng, text: string): string {
  let s = text;
  const edits = 1 + Math.floor(rng.next() * 6);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(rng.next() * (s.length + 1));
    const kind = Math.floor(rng.next() * 5);
    const token = TOKENS[Math.floor(rng.next() * TOKENS.length)] as string;
    if (kind === 0) s = s.slice(0, at) + token + s.slice(at);
    else if (kind === 1) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(rng.next() * 4));
    else if (kind === 2) s = s.slice(0, at) + token + s.slice(at + token.length);
    else if (kind === 3) s = s.slice(0, at);
    else s = s.slice(0, at) + s.slice(at, at + 20) + s.slice(at);
  }
  return s;
}

function checkDataset(d: Dataset): void {
  expect(d.n).toBeGreaterThan(0);
  expect(d.d).toBeGreaterThan(0);
  expect(d.x.length).toBe(d.n * d.d);
  expect(d.targets.length).toBe(d.n * d.classes);
  for (const v of d.x) expect(Number.isFinite(v)).toBe(true);
  for (let i = 0; i < d.n; i++) {
    let sum = 0;
    for (let c = 0; c < d.classes; c++) sum += d.targets[i * d.classes + c] as number;
    expect(Math.abs(sum - 1)).toBeLessThan(1e-9);
  }
  if (d.labels) for (const l of d.labels) expect(l >= 0 && l < d.classes).toBe(true);
}

function checkModel(m: Model): void {
  expect(m.layers.length).toBeGreaterThanOrEqual(2);
  m.layers.forEach((layer, i) => {
    expect(layer.weight.length).toBe(layer.out * layer.in);
    for (const v of layer.weight) expect(Number.isFinite(v)).toBe(true);
    if (i > 0) expect(layer.in).toBe(m.layers[i - 1]!.out);
  });
}

/** Runs `parse` on every input; counts results and HessboundErrors, fails on anything else. */
function fuzz<T>(inputs: string[], parse: (text: string) => T, check: (value: T) => void): { ok: number; refused: number } {
  let ok = 0;
  let refused = 0;
  for (const input of inputs) {
    let value: T;
    try {
      value = parse(input);
    } catch (err) {
      if (!(err instanceof HessboundError) || !err.hint) throw new Error(`input ${JSON.stringify(input.slice(0, 200))} threw ${String(err)}`);
      refused++;
      continue;
    }
    check(value);
    ok++;
  }
  return { ok, refused };
}

function randomJson(rng: Rng, depth: number): unknown {
  const r = rng.next();
  if (depth > 3 || r < 0.3) {
    const pick = Math.floor(rng.next() * 8);
    return [0, 1, -1.5, 1e308, null, 'x', true, 2 ** 31][pick];
  }
  if (r < 0.7) return Array.from({ length: Math.floor(rng.next() * 4) }, () => randomJson(rng, depth + 1));
  const keys = ['x', 'y', 'targets', 'classes', 'name', 'format', 'activation', 'layers', 'weight', 'bias'];
  return Object.fromEntries(keys.filter(() => rng.next() < 0.4).map((k) => [k, randomJson(rng, depth + 1)]));
}

describe('parser fuzzing (seeded)', () => {
  it('CSV: results are well formed, everything else is a HessboundError with a hint', () => {
    const rng = createRng(16);
    const seeds = ['f0,f1,label\n1.5,2,0\n-3,4e-1,1\n5,6,2\n', '"a","b,c",label\r\n1,"2",0\r\n3,4,1\r\n', 'a;b;label\n1;2;0\n3;4;1\n', 'x\ty\tlabel\n1\t2\t1\n'];
    const inputs = Array.from({ length: INPUTS }, (_, i) => mutate(rng, seeds[i % seeds.length] as string));
    const { ok, refused } = fuzz(inputs, (t) => parseCsv(t), checkDataset);
    expect(ok + refused).toBe(INPUTS);
    // Both outcomes occur: the mutations are neither all fatal nor all harmless.
    expect(ok).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(100);
  });

  it('JSON data: mutated files and generated structures', () => {
    const rng = createRng(17);
    const seeds = ['{"x": [[1, 2], [3, 4], [5, 6]], "y": [0, 1, 2]}', '{"x": [[1], [2]], "targets": [[0.5, 0.5], [1, 0]], "classes": 2}'];
    const inputs = [
      ...Array.from({ length: INPUTS }, (_, i) => mutate(rng, seeds[i % seeds.length] as string)),
      ...Array.from({ length: INPUTS / 3 }, () => JSON.stringify(randomJson(rng, 0))),
    ];
    const { ok, refused } = fuzz(inputs, (t) => parseDataJson(t), checkDataset);
    expect(ok).toBeGreaterThan(50);
    expect(refused).toBeGreaterThan(100);
  });

  it('models: mutated files and generated structures', () => {
    const rng = createRng(18);
    const seed = JSON.stringify({ format: 'hessbound.mlp.v1', activation: 'tanh', layers: [{ weight: [[1, 2], [3, 4], [5, 6]], bias: [0, 0, 0] }, { weight: [[1, 0, -1], [0.5, 0.5, 0.5]], bias: null }] });
    const inputs = [...Array.from({ length: INPUTS }, () => mutate(rng, seed)), ...Array.from({ length: INPUTS / 3 }, () => JSON.stringify(randomJson(rng, 0)))];
    const { ok, refused } = fuzz(inputs, (t) => parseModelJson(t), checkModel);
    expect(ok).toBeGreaterThan(20);
    expect(refused).toBeGreaterThan(100);
  });
});
