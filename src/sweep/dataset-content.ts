/**
 * The canonical text of a data set and its content id (`sha256:<hex>`), in plain TypeScript (no Node
 * built-ins), so that a study in any environment names in-memory data the way the queue stores it
 * (src/queue/content-data.ts checks and caches that text on the workers).
 */
import type { Dataset } from '../types.js';
import { sha256Hex } from './sha256.js';

export const DATASET_TEXT_FORMAT = 'hessbound.dataset.v1';

/** Canonical text of a data set: same data, same text, same id. */
export function serializeDataset(data: Dataset): string {
  return JSON.stringify({
    format: DATASET_TEXT_FORMAT,
    n: data.n,
    d: data.d,
    classes: data.classes,
    x: Array.from(data.x),
    ...(data.labels ? { labels: Array.from(data.labels) } : { targets: Array.from(data.targets) }),
  });
}

/** sha256:<64 hex> of the text (the same as the queue's node:crypto hash of it). */
export function contentIdOfText(text: string): string {
  return `sha256:${sha256Hex(text)}`;
}
