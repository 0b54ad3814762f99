/**
 * Model I/O and construction. Pure TypeScript (no Node built-ins), so it also runs in the browser.
 *
 * JSON format `hessbound.mlp.v1`:
 *   {"format": "hessbound.mlp.v1", "activation": "tanh",
 *    "layers": [{"weight": [[...], ...] (out x in), "bias": [...] | null}, ...],
 *    "objective": {"weightDecay": 0.001, "hsr": {"beta": 0.01, "target": "upper"}}}   (optional)
 *   leaky_relu models add "negativeSlope": 0.01 (PyTorch's negative_slope; 0.01 when absent).
 * Parameter order everywhere (PyTorch nn.Linear order): layer by layer, W row-major, then b.
 */
import { fail } from './errors.js';
import { platformMemoryBudget } from './memory.js';
import { assertAllocationsFit, modelParameters, parameterCountOf } from './resources/memory-plan.js';
import { countRootArrayElements } from './io/json-scan.js';
import { checkLayerCount, MAX_LAYERS } from './resources/layer-limit.js';
import { createRng } from './rng.js';
import { ACTIVATIONS, DEFAULT_NEGATIVE_SLOPE, NON_SMOOTH_ACTIVATIONS } from './types.js';
import type { Activation, Dataset, Layer, Model, TrainingObjective } from './types.js';

export const MODEL_FORMAT = 'hessbound.mlp.v1';

export interface LayerJson {
  weight: number[][];
  bias: number[] | null;
}

export interface ModelJson {
  format: typeof MODEL_FORMAT;
  activation: Activation;
  /** leaky_relu only. */
  negativeSlope?: number;
  layers: LayerJson[];
  /** What the model was trained on (written by train; see TrainingObjective). */
  objective?: { weightDecay: number; hsr?: { beta: number; target: 'upper' | 'spread' } };
}

// ---------------------------------------------------------------------------------------------
// Small validation helpers

const SMOOTH_ALTERNATIVES_HINT =
  'relu and leaky_relu are supported (almost-everywhere Hessian); for other kinked activations use a smooth one: ' +
  'softplus (a smooth ReLU), gelu or silu';

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'missing';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON.parse with a HessboundError instead of a bare SyntaxError. */
export function parseJsonText(text: string, what: 'model' | 'data'): unknown {
  try {
    // A byte-order mark is not JSON, but editors write one: drop it instead of "Unexpected token".
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text) as unknown;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return fail(what === 'model' ? 'BAD_MODEL' : 'BAD_DATA', `the ${what} is not valid JSON: ${reason}`);
  }
}

/** Reads one finite number; `path` names it in the error (e.g. `layers[1].weight[2][0]`). */
function readModelNumber(value: unknown, path: string): number {
  if (typeof value !== 'number') fail('BAD_MODEL', `${path} is ${describeValue(value)}, not a number`);
  if (!Number.isFinite(value)) {
    fail('NON_FINITE', `${path} is ${String(value)}; every weight and bias must be finite`);
  }
  return value;
}

/** PyTorch module names as written in metadata ("nn.ReLU", "torch.nn.LeakyReLU", "SiLU") to ours. */
const PYTORCH_MODULE_NAMES: Record<string, string> = { leakyrelu: 'leaky_relu' };
function canonicalActivationName(name: string): string {
  const bare = name.trim().replace(/^(torch\.)?nn\./i, '').toLowerCase();
  return PYTORCH_MODULE_NAMES[bare] ?? bare;
}

/**
 * Checks an activation name (case-insensitive; PyTorch's module names such as nn.ReLU too). relu and
 * leaky_relu are accepted (piecewise linear: the Hessian is the almost-everywhere one); other
 * non-smooth activations are refused with the reason.
 */
export function parseActivation(name: unknown): Activation {
  const valid = ACTIVATIONS.join(', ');
  if (typeof name !== 'string') {
    fail('BAD_ACTIVATION', `activation must be a string, got ${describeValue(name)}`, `one of: ${valid}`);
  }
  const normalized = canonicalActivationName(name);
  const known = ACTIVATIONS.find((a) => a === normalized);
  if (known) return known;
  if ((NON_SMOOTH_ACTIVATIONS as readonly string[]).includes(normalized)) {
    fail(
      'BAD_ACTIVATION',
      `activation "${name}" is not smooth: the Wolkowicz-Styan bound and the exact Hessian need the ` +
        `second derivative sigma'' at every point, and ${normalized} has a kink (or a jump) where it is undefined ` +
        `(only relu and leaky_relu, with sigma'' = 0 between kinks, are handled as almost-everywhere exceptions)`,
      SMOOTH_ALTERNATIVES_HINT,
    );
  }
  return fail('BAD_ACTIVATION', `unknown activation "${name}"; valid activations: ${valid}`);
}

/** Checks leaky_relu's slope: a finite number (PyTorch allows any, including negative ones). */
export function parseNegativeSlope(value: unknown, where = 'negativeSlope'): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    fail('BAD_ACTIVATION', `${where} (the leaky_relu slope for u <= 0) must be a finite number, got ${describeValue(value)}`, `e.g. ${DEFAULT_NEGATIVE_SLOPE} (PyTorch's default)`);
  return value;
}

/** The slope for u <= 0 the kernel uses: leaky_relu's (default 0.01), 0 for every other activation. */
export function negativeSlopeOf(model: Pick<Model, 'activation' | 'negativeSlope'>): number {
  return model.activation === 'leaky_relu' ? (model.negativeSlope ?? DEFAULT_NEGATIVE_SLOPE) : 0;
}

/** The activation fields of a model, to build another model with the same activation. */
export function activationOf(model: Pick<Model, 'activation' | 'negativeSlope'>): Pick<Model, 'activation' | 'negativeSlope'> {
  return model.activation === 'leaky_relu' ? { activation: model.activation, negativeSlope: negativeSlopeOf(model) } : { activation: model.activation };
}

/** A negativeSlope next to an activation other than leaky_relu is a mistake worth naming. */
function checkSlopeBelongs(activation: Activation, slope: unknown): void {
  if (slope !== undefined && activation !== 'leaky_relu')
    fail('BAD_ACTIVATION', `negativeSlope is given but the activation is ${activation}`, 'negativeSlope applies to leaky_relu only; remove it or use activation leaky_relu');
}

// ---------------------------------------------------------------------------------------------
// Parsing

function parseWeightMatrix(raw: unknown, path: string): { weight: Float64Array; out: number; in: number } {
  if (!Array.isArray(raw)) fail('BAD_MODEL', `${path} must be an array of rows (out x in), got ${describeValue(raw)}`);
  if (raw.length === 0) fail('BAD_MODEL', `${path} is empty: a layer needs at least one output unit`);
  const firstRow: unknown = raw[0];
  if (!Array.isArray(firstRow)) fail('BAD_MODEL', `${path}[0] must be an array of numbers, got ${describeValue(firstRow)}`);
  const inputs = firstRow.length;
  if (inputs === 0) fail('BAD_MODEL', `${path}[0] is empty: a layer needs at least one input`);
  const outputs = raw.length;
  const weight = new Float64Array(outputs * inputs);
  raw.forEach((row: unknown, r) => {
    if (!Array.isArray(row)) fail('BAD_MODEL', `${path}[${r}] must be an array of numbers, got ${describeValue(row)}`);
    if (row.length !== inputs) {
      fail(
        'SHAPE_MISMATCH',
        `${path} is ragged: row ${r} has ${row.length} entries but row 0 has ${inputs}`,
        'every row of a weight matrix (one row per output unit) must have one entry per input',
      );
    }
    row.forEach((value: unknown, c) => {
      weight[r * inputs + c] = readModelNumber(value, `${path}[${r}][${c}]`);
    });
  });
  return { weight, out: outputs, in: inputs };
}

function parseBias(raw: unknown, outputs: number, path: string): Float64Array | null {
  if (raw === null || raw === undefined) return null;
  if (!Array.isArray(raw)) fail('BAD_MODEL', `${path} must be an array of numbers or null, got ${describeValue(raw)}`);
  if (raw.length !== outputs) {
    fail('SHAPE_MISMATCH', `${path} has ${raw.length} entries but the layer has ${outputs} outputs (weight rows)`);
  }
  return Float64Array.from(raw, (value: unknown, i) => readModelNumber(value, `${path}[${i}]`));
}

function parseLayer(raw: unknown, index: number): Layer {
  const path = `layers[${index}]`;
  if (!isPlainObject(raw)) fail('BAD_MODEL', `${path} must be an object {"weight": [[...]], "bias": [...] | null}`);
  if (raw['weight'] === undefined) fail('BAD_MODEL', `${path} has no "weight"`);
  const { weight, out, in: inputs } = parseWeightMatrix(raw['weight'], `${path}.weight`);
  const bias = parseBias(raw['bias'], out, `${path}.bias`);
  return { out, in: inputs, weight, bias };
}

/** Checks that consecutive layers fit together and that the output has at least 2 classes. */
function checkLayerChain(layers: readonly Layer[]): void {
  if (layers.length < 2) {
    fail(
      'BAD_MODEL',
      `the model has ${layers.length} layer(s); it needs at least 2 (one hidden layer and the output layer)`,
      'the curvature here is that of an MLP with at least one hidden layer; a linear softmax model is not supported',
    );
  }
  for (let l = 1; l < layers.length; l++) {
    const previous = layers[l - 1] as Layer;
    const current = layers[l] as Layer;
    if (current.in !== previous.out) {
      fail(
        'SHAPE_MISMATCH',
        `layers[${l}] takes ${current.in} inputs but layers[${l - 1}] produces ${previous.out} outputs`,
        'each weight is out x in (PyTorch nn.Linear order); a transposed matrix is the usual cause',
      );
    }
  }
  const output = layers[layers.length - 1] as Layer;
  if (output.out < 2) {
    fail(
      'BAD_MODEL',
      `the output layer has ${output.out} unit(s); softmax cross-entropy needs at least 2 classes`,
      'for a binary problem use 2 output units (one logit per class)',
    );
  }
}

function checkFormat(format: unknown): void {
  if (format === undefined) {
    fail('BAD_MODEL', 'the model has no "format" field', `add "format": "${MODEL_FORMAT}"`);
  }
  if (format !== MODEL_FORMAT) {
    fail('BAD_MODEL', `unsupported model format ${JSON.stringify(format)}; expected "${MODEL_FORMAT}"`);
  }
}

/** Parses and fully validates a `hessbound.mlp.v1` model (JSON text or an already parsed object). */
export function parseModelJson(input: string | object): Model {
  // The layer count first, from the text: JSON.parse of 100,000 layers alone takes most of a second.
  if (typeof input === 'string') {
    const layers = countRootArrayElements(input, 'layers', MAX_LAYERS);
    if (layers !== null) checkLayerCount(layers, 'the model', MAX_LAYERS);
  }
  const root = typeof input === 'string' ? parseJsonText(input, 'model') : input;
  if (!isPlainObject(root)) fail('BAD_MODEL', `the model must be a JSON object, got ${describeValue(root)}`);
  checkFormat(root['format']);
  const activation = parseActivation(root['activation']);
  checkSlopeBelongs(activation, root['negativeSlope']);
  const rawLayers = root['layers'];
  if (!Array.isArray(rawLayers)) fail('BAD_MODEL', `"layers" must be an array, got ${describeValue(rawLayers)}`);
  // Before any layer is parsed: the refusal costs no more than reading the JSON.
  checkLayerCount(rawLayers.length, 'the model');
  const layers = rawLayers.map((raw: unknown, l) => parseLayer(raw, l));
  checkLayerChain(layers);
  const objective = root['objective'] === undefined ? undefined : parseTrainingObjective(root['objective'], '"objective"');
  const base: Model = activation !== 'leaky_relu'
    ? { activation, layers }
    : { activation, negativeSlope: root['negativeSlope'] === undefined ? DEFAULT_NEGATIVE_SLOPE : parseNegativeSlope(root['negativeSlope']), layers };
  return objective ? { ...base, objective } : base;
}

/** A TrainingObjective from JSON (a model file's "objective"), checked field by field. */
export function parseTrainingObjective(raw: unknown, path: string): TrainingObjective {
  if (!isPlainObject(raw)) return fail('BAD_MODEL', `${path} must be an object {"weightDecay": number, "hsr"?: {...}}, got ${describeValue(raw)}`);
  const weightDecay = raw['weightDecay'];
  if (typeof weightDecay !== 'number' || !Number.isFinite(weightDecay) || weightDecay < 0)
    fail('BAD_MODEL', `${path}.weightDecay must be a number >= 0, got ${describeValue(weightDecay)}`, 'drop the "objective" field if the training objective is unknown');
  const hsr = raw['hsr'];
  if (hsr === undefined || hsr === null) return { weightDecay };
  if (!isPlainObject(hsr)) return fail('BAD_MODEL', `${path}.hsr must be an object {"beta": number, "target": "upper" | "spread"}, got ${describeValue(hsr)}`);
  const beta = hsr['beta'];
  const target = hsr['target'] ?? 'upper';
  if (typeof beta !== 'number' || !Number.isFinite(beta) || beta < 0) fail('BAD_MODEL', `${path}.hsr.beta must be a number >= 0, got ${describeValue(beta)}`);
  if (target !== 'upper' && target !== 'spread') fail('BAD_MODEL', `${path}.hsr.target must be "upper" or "spread", got ${describeValue(target)}`);
  return { weightDecay, hsr: { beta, target } };
}

/**
 * Validates a Model built in code (typed arrays): activation, sizes, finiteness, layer chain.
 * Returns the model unchanged so it can be used inline.
 */
export function validateModel(model: Model): Model {
  if (!isPlainObject(model) || !Array.isArray(model.layers)) {
    fail('BAD_MODEL', 'a model must be an object {activation, layers: Layer[]}');
  }
  checkLayerCount(model.layers.length, 'the model');
  parseActivation(model.activation);
  checkSlopeBelongs(model.activation, model.negativeSlope);
  if (model.negativeSlope !== undefined) parseNegativeSlope(model.negativeSlope);
  model.layers.forEach((layer, l) => {
    const path = `layers[${l}]`;
    const sizesOk = Number.isInteger(layer.out) && Number.isInteger(layer.in) && layer.out > 0 && layer.in > 0;
    if (!sizesOk) fail('BAD_MODEL', `${path} has invalid sizes out=${String(layer.out)}, in=${String(layer.in)}`);
    if (!(layer.weight instanceof Float64Array) || layer.weight.length !== layer.out * layer.in) {
      fail('SHAPE_MISMATCH', `${path}.weight must be a Float64Array of ${layer.out}x${layer.in} = ${layer.out * layer.in} values`);
    }
    if (layer.bias !== null && (!(layer.bias instanceof Float64Array) || layer.bias.length !== layer.out)) {
      fail('SHAPE_MISMATCH', `${path}.bias must be null or a Float64Array of ${layer.out} values`);
    }
    checkFinite(layer.weight, `${path}.weight`, layer.in);
    if (layer.bias) checkFinite(layer.bias, `${path}.bias`, 0);
  });
  checkLayerChain(model.layers);
  if (model.objective !== undefined) parseTrainingObjective(model.objective, 'objective');
  return model;
}

function checkFinite(values: Float64Array, path: string, rowLength: number): void {
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as number;
    if (Number.isFinite(value)) continue;
    const where = rowLength > 0 ? `[${Math.floor(i / rowLength)}][${i % rowLength}]` : `[${i}]`;
    fail('NON_FINITE', `${path}${where} is ${value}; every weight and bias must be finite`);
  }
}

// ---------------------------------------------------------------------------------------------
// Serialization and parameter vectors

/** Inverse of parseModelJson: `parseModelJson(modelToJson(m))` reproduces `m` exactly. */
export function modelToJson(model: Model): ModelJson {
  return {
    format: MODEL_FORMAT,
    ...activationOf(model),
    layers: model.layers.map((layer) => ({
      weight: Array.from({ length: layer.out }, (_, r) =>
        Array.from(layer.weight.subarray(r * layer.in, (r + 1) * layer.in)),
      ),
      bias: layer.bias ? Array.from(layer.bias) : null,
    })),
    ...(model.objective ? { objective: { weightDecay: model.objective.weightDecay, ...(model.objective.hsr ? { hsr: { ...model.objective.hsr } } : {}) } } : {}),
  };
}

/** Layer widths d0 (inputs), d1, ..., dL (classes). */
export function layerSizes(model: Model): number[] {
  const first = model.layers[0];
  if (!first) return [];
  return [first.in, ...model.layers.map((layer) => layer.out)];
}

export function hasBias(model: Model): boolean[] {
  return model.layers.map((layer) => layer.bias !== null);
}

export function parameterCount(model: Model): number {
  return model.layers.reduce((total, layer) => total + layer.weight.length + (layer.bias?.length ?? 0), 0);
}

/** All parameters in PyTorch order: layer by layer, W row-major, then b. */
export function flattenParams(model: Model): Float64Array {
  const params = new Float64Array(parameterCount(model));
  let offset = 0;
  for (const layer of model.layers) {
    params.set(layer.weight, offset);
    offset += layer.weight.length;
    if (layer.bias) {
      params.set(layer.bias, offset);
      offset += layer.bias.length;
    }
  }
  return params;
}

/**
 * A model with the same structure as `model` and the values of `params` (PyTorch order).
 * Values are copied; they are not checked for finiteness (training code may want to see NaNs).
 */
export function unflattenParams(model: Model, params: Float64Array | readonly number[]): Model {
  const expected = parameterCount(model);
  if (params.length !== expected) {
    fail('SHAPE_MISMATCH', `the parameter vector has ${params.length} values but the model has ${expected} parameters`);
  }
  const source = params instanceof Float64Array ? params : Float64Array.from(params);
  let offset = 0;
  const take = (count: number): Float64Array => {
    const values = source.slice(offset, offset + count);
    offset += count;
    return values;
  };
  const layers = model.layers.map((layer) => ({
    out: layer.out,
    in: layer.in,
    weight: take(layer.weight.length),
    bias: layer.bias ? take(layer.bias.length) : null,
  }));
  return { ...activationOf(model), layers };
}

// ---------------------------------------------------------------------------------------------
// Random initialization

export type InitScheme = 'glorot' | 'he';

export interface RandomModelOptions {
  inputs: number;
  hidden: readonly number[];
  classes: number;
  /** Default 'tanh', as the CLI's --activation. */
  activation?: Activation;
  /** leaky_relu's slope for u <= 0; default 0.01. */
  negativeSlope?: number;
  seed: number;
  /** Default 'glorot'. */
  init?: InitScheme;
  /** Give every layer a bias (initialized to zero). Default true. */
  bias?: boolean;
}

function checkPositiveInteger(value: unknown, name: string, minimum = 1): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum) {
    fail('BAD_OPTION', `${name} must be an integer >= ${minimum}, got ${describeValue(value)}`);
  }
  return value;
}

/**
 * A randomly initialized MLP, deterministic for a given seed (see `createRng`).
 *
 * Weights are drawn layer by layer in parameter order (W row-major) from N(0, s^2) with
 *   - 'glorot' (default): s^2 = 2 / (fan_in + fan_out)   (Glorot/Xavier normal)
 *   - 'he':               s^2 = 2 / fan_in               (He/Kaiming normal)
 * where fan_in = layer inputs and fan_out = layer outputs. Biases, when enabled (default), are zero.
 */
/** Largest typed array V8 allocates (2^32 - 1 elements on 64-bit); beyond it a RangeError. */
const MAX_LAYER_ENTRIES = 2 ** 32 - 1;

/** Refuses, before allocating, a model that cannot be held (a typed-array limit or the memory budget). */
function checkModelFits(sizes: readonly number[]): void {
  for (let l = 1; l < sizes.length; l++) {
    const entries = (sizes[l] as number) * (sizes[l - 1] as number);
    if (entries > MAX_LAYER_ENTRIES)
      fail('TOO_LARGE', `layer ${l} would have ${entries.toLocaleString('en-US')} weights, more than one array can hold (${MAX_LAYER_ENTRIES.toLocaleString('en-US')})`, 'use smaller hidden widths (--hidden)');
  }
  const model = modelParameters(parameterCountOf(sizes));
  assertAllocationsFit([model], platformMemoryBudget());
}

export function randomModel(options: RandomModelOptions): Model {
  const inputs = checkPositiveInteger(options.inputs, 'inputs');
  const classes = checkPositiveInteger(options.classes, 'classes', 2);
  if (!Array.isArray(options.hidden) || options.hidden.length === 0) {
    fail('BAD_OPTION', 'hidden must be a non-empty array of layer widths, e.g. [16]', 'the model needs at least one hidden layer');
  }
  checkLayerCount(options.hidden.length + 1, 'the model');
  const hidden = options.hidden.map((width, i) => checkPositiveInteger(width, `hidden[${i}]`));
  const activation = parseActivation(options.activation ?? 'tanh');
  checkSlopeBelongs(activation, options.negativeSlope);
  const negativeSlope = options.negativeSlope === undefined ? DEFAULT_NEGATIVE_SLOPE : parseNegativeSlope(options.negativeSlope);
  const init = options.init ?? 'glorot';
  if (init !== 'glorot' && init !== 'he') fail('BAD_OPTION', `init must be 'glorot' or 'he', got ${describeValue(init)}`);
  const withBias = options.bias ?? true;
  const rng = createRng(options.seed);

  const sizes = [inputs, ...hidden, classes];
  checkModelFits(sizes);
  const layers: Layer[] = [];
  for (let l = 1; l < sizes.length; l++) {
    const fanIn = sizes[l - 1] as number;
    const fanOut = sizes[l] as number;
    const std = Math.sqrt(init === 'he' ? 2 / fanIn : 2 / (fanIn + fanOut));
    const weight = new Float64Array(fanOut * fanIn);
    for (let i = 0; i < weight.length; i++) weight[i] = std * rng.normal();
    layers.push({ out: fanOut, in: fanIn, weight, bias: withBias ? new Float64Array(fanOut) : null });
  }
  return { ...activationOf({ activation, negativeSlope }), layers };
}

// ---------------------------------------------------------------------------------------------
// Model/data compatibility

export function validateModelForData(model: Model, data: Dataset): void {
  const sizes = layerSizes(model);
  const inputs = sizes[0] as number;
  const outputs = sizes[sizes.length - 1] as number;
  if (inputs !== data.d) {
    fail(
      'SHAPE_MISMATCH',
      `the model takes ${inputs} input features but the data has ${data.d} features per sample`,
      'the first layer\'s weight must have one column per feature',
    );
  }
  if (outputs !== data.classes) {
    const labelHint =
      data.labels && data.classes < outputs
        ? 'if the labels simply do not include the highest classes, pass the number of classes explicitly ' +
          '(a "classes" field in the data JSON, or the classes option)'
        : 'the output layer needs one unit per class';
    fail('SHAPE_MISMATCH', `the model has ${outputs} outputs but the data has ${data.classes} classes`, labelHint);
  }
}
