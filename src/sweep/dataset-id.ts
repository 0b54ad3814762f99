/**
 * Data set identifiers of sweep jobs: an embedded data set name ("iris", "digits", ...) or a
 * synthetic one, "synthetic:n=120,d=32,classes=3,rho=0.5[,seed=0][,teacher=mlp][,norm=R]". Identifiers
 * are canonicalised so that equal data sets give equal job keys.
 */
import { fail } from '../errors.js';
import { syntheticDataset, validateSyntheticOptions, type SyntheticOptions, type SyntheticTeacher } from '../synthetic.js';
import type { Dataset } from '../types.js';

export type DatasetId = { kind: 'embedded'; name: string } | { kind: 'synthetic'; options: SyntheticOptions } | { kind: 'file'; path: string };

/** A data file by path: file:PATH (the path as given; Node resolves it against the working directory). */
const FILE_PREFIX = 'file:';

const SYNTHETIC_PREFIX = 'synthetic:';
const SYNTHETIC_HINT = 'e.g. synthetic:n=120,d=32,classes=3,rho=0.5 (optional seed=S, teacher=mlp|centroids, norm=R)';

export function parseDatasetId(id: string): DatasetId {
  if (typeof id !== 'string' || id.trim() === '') fail('BAD_OPTION', 'the data set must be a non-empty name', `an embedded name (iris, wine, breast_cancer, digits) or ${SYNTHETIC_HINT}`);
  const text = id.trim();
  if (text.toLowerCase().startsWith(FILE_PREFIX)) {
    const path = text.slice(FILE_PREFIX.length).trim();
    if (path === '') fail('BAD_OPTION', `no path in the data set '${id}'`, 'e.g. file:data/train.csv');
    return { kind: 'file', path };
  }
  if (!text.toLowerCase().startsWith(SYNTHETIC_PREFIX)) return { kind: 'embedded', name: text.toLowerCase().replace(/-/g, '_') };
  const fields = new Map<string, string>();
  for (const part of text.slice(SYNTHETIC_PREFIX.length).split(',')) {
    const [key, value, extra] = part.split('=').map((s) => s.trim());
    if (!key || value === undefined || value === '' || extra !== undefined) fail('BAD_OPTION', `cannot read '${part}' in the data set '${id}'`, SYNTHETIC_HINT);
    if (fields.has(key)) fail('BAD_OPTION', `'${key}' appears twice in the data set '${id}'`);
    fields.set(key, value);
  }
  const number = (key: string, fallback?: number): number => {
    const raw = fields.get(key);
    if (raw === undefined) {
      if (fallback === undefined) fail('BAD_OPTION', `the synthetic data set '${id}' needs ${key}=...`, SYNTHETIC_HINT);
      return fallback;
    }
    const value = Number(raw);
    if (!Number.isFinite(value)) fail('BAD_OPTION', `${key}=${raw} in '${id}' is not a number`);
    return value;
  };
  for (const key of fields.keys())
    if (!['n', 'd', 'classes', 'rho', 'seed', 'teacher', 'norm'].includes(key)) fail('BAD_OPTION', `unknown field '${key}' in the data set '${id}'`, SYNTHETIC_HINT);
  const options = validateSyntheticOptions({
    n: number('n'),
    d: number('d'),
    classes: number('classes'),
    rho: number('rho'),
    seed: number('seed', 0),
    teacher: (fields.get('teacher') ?? 'mlp') as SyntheticTeacher,
    ...(fields.has('norm') ? { norm: number('norm') } : {}),
  });
  return { kind: 'synthetic', options };
}

/** The canonical text of an identifier (lower case, fields in a fixed order, defaults explicit). */
export function formatDatasetId(id: DatasetId): string {
  if (id.kind === 'embedded') return id.name;
  if (id.kind === 'file') return `${FILE_PREFIX}${id.path}`;
  const o = id.options;
  const norm = o.norm !== undefined && o.norm !== Math.sqrt(o.d) ? `,norm=${o.norm}` : '';
  return `${SYNTHETIC_PREFIX}n=${o.n},d=${o.d},classes=${o.classes},rho=${o.rho},seed=${o.seed},teacher=${o.teacher ?? 'mlp'}${norm}`;
}

export function canonicalDatasetId(text: string): string {
  return formatDatasetId(parseDatasetId(text));
}

let defaultEmbedded: ((name: string) => Dataset) | undefined;

/** Where embedded data sets come from when no loader is passed (the Node entry sets loadDataset). */
export function setDefaultEmbeddedLoader(loader: ((name: string) => Dataset) | undefined): void {
  defaultEmbedded = loader;
}

/**
 * Loads a data set by identifier; embedded data sets come from `loadEmbedded` (default: the loader
 * the Node entry registers, loadDataset), files from `loadFile` (Node: readDataFile, CSV standardized).
 */
export function loadDatasetById(
  text: string,
  loadEmbedded: ((name: string) => Dataset) | undefined = defaultEmbedded,
  loadFile?: (path: string) => Dataset,
): Dataset {
  const id = parseDatasetId(text);
  if (id.kind === 'synthetic') return syntheticDataset(id.options);
  if (id.kind === 'file') {
    if (!loadFile) fail('BAD_OPTION', `the data file '${id.path}' cannot be loaded here`, 'pass loadData, or use an embedded or synthetic data set');
    return loadFile(id.path);
  }
  if (!loadEmbedded)
    fail('BAD_OPTION', `the embedded data set '${id.name}' cannot be loaded here`, 'pass loadData (in the browser: fetch the CSV and parse it with parseCsv) or use a synthetic data set');
  return loadEmbedded(id.name);
}
