/**
 * MLPs from ONNX files (torch.onnx.export and other exporters). The protobuf is decoded by
 * onnx-proto.ts (the few messages needed, on the `pbf` reader); this module only reads the graph:
 * a chain of affine layers (`Gemm`, or `MatMul` + `Add`) with one activation between them (`Tanh`,
 * `Sigmoid`, `Softplus`, `Relu`, `LeakyRelu`, `Gelu` or its exact `Erf` form, SiLU as
 * `x * Sigmoid(x)`, none/`Identity`). Anything else is refused with the node's name and op.
 */
import { checkLayerCount } from '../resources/layer-limit.js';
import { fail, HessboundError } from '../errors.js';
import { validateModel } from '../model.js';
import type { Activation, Layer, Model } from '../types.js';
import { asBytes, dataView, describeShape, shapeSize } from './bytes.js';
import { bfloat16BitsToNumber, float16BitsToNumber } from './half.js';
import { DATA_TYPE_NAMES, decodeOnnxModel, type AttributeProto, type ModelProto, type NodeProto, type TensorProto } from './onnx-proto.js';

const SUPPORTED_OPS = 'Gemm, MatMul, Add, Tanh, Sigmoid, Softplus, Relu, LeakyRelu, Gelu, Erf (exact GELU), Mul/Div (GELU, SiLU), Identity, Constant, Transpose of a constant';
const DATA_TYPE = { FLOAT: 1, FLOAT16: 10, DOUBLE: 11, BFLOAT16: 16 } as const;
const DATA_LOCATION_EXTERNAL = 1;

// ---------------------------------------------------------------------------------------------
// Constants

interface Constant {
  readonly kind: 'const';
  readonly dims: number[];
  readonly values: Float64Array;
}

function tensorValues(tensor: TensorProto, what: string): Constant {
  const dims = tensor.dims;
  if (!dims.every((d) => Number.isSafeInteger(d) && d >= 0)) fail('BAD_MODEL', `${what} has an invalid shape ${describeShape(dims)}`);
  const count = shapeSize(dims);
  if (!Number.isSafeInteger(count) || count > 1e9) fail('BAD_MODEL', `${what} has an impossible shape ${describeShape(dims)}`);
  if (tensor.dataLocation === DATA_LOCATION_EXTERNAL) {
    fail('BAD_MODEL', `${what} keeps its values in an external file`, 'export with the weights inside the .onnx file (the default for small models)');
  }
  const type = tensor.dataType;
  const raw = tensor.rawData && tensor.rawData.length > 0 ? tensor.rawData : null;
  const size = type === DATA_TYPE.DOUBLE ? 8 : type === DATA_TYPE.FLOAT ? 4 : type === DATA_TYPE.FLOAT16 || type === DATA_TYPE.BFLOAT16 ? 2 : 0;
  if (size === 0) {
    const name = DATA_TYPE_NAMES[type] ?? `type ${type}`;
    fail('BAD_MODEL', `${what} holds ${name} values; weights must be floating point (float, double, float16 or bfloat16)`,
      'export the float model (not a quantized one)');
  }
  const values = new Float64Array(count);
  if (raw) {
    if (raw.length !== count * size) fail('BAD_MODEL', `${what} has ${raw.length} bytes of data but shape ${describeShape(dims)} needs ${count * size}`);
    const view = dataView(raw);
    for (let i = 0; i < count; i++) {
      if (size === 8) values[i] = view.getFloat64(8 * i, true);
      else if (size === 4) values[i] = view.getFloat32(4 * i, true);
      else if (type === DATA_TYPE.FLOAT16) values[i] = float16BitsToNumber(view.getUint16(2 * i, true));
      else values[i] = bfloat16BitsToNumber(view.getUint16(2 * i, true));
    }
    return { kind: 'const', dims, values };
  }
  const typed: ArrayLike<number> =
    type === DATA_TYPE.DOUBLE ? tensor.doubleData : type === DATA_TYPE.FLOAT ? tensor.floatData : tensor.int32Data;
  if (typed.length !== count) fail('BAD_MODEL', `${what} has ${typed.length} values but shape ${describeShape(dims)} needs ${count}`);
  for (let i = 0; i < count; i++) {
    const v = typed[i] as number;
    values[i] = type === DATA_TYPE.FLOAT16 ? float16BitsToNumber(v) : type === DATA_TYPE.BFLOAT16 ? bfloat16BitsToNumber(v) : type === DATA_TYPE.FLOAT ? Math.fround(v) : v;
  }
  return { kind: 'const', dims, values };
}

function scalarOf(c: Constant): number | null {
  return c.values.length === 1 ? (c.values[0] as number) : null;
}

function transpose2d(c: Constant): Constant {
  const [rows, cols] = c.dims as [number, number];
  const values = new Float64Array(c.values.length);
  for (let r = 0; r < rows; r++) for (let k = 0; k < cols; k++) values[k * rows + r] = c.values[r * cols + k] as number;
  return { kind: 'const', dims: [cols, rows], values };
}

// ---------------------------------------------------------------------------------------------
// Symbolic values along the chain

/** z = W h + b applied to the hidden value at `inputDepth`. */
interface Affine {
  readonly kind: 'affine';
  readonly inputDepth: number;
  readonly layer: Layer;
}
type Symbolic =
  | { kind: 'hidden'; depth: number }
  | Affine
  /** negativeSlope: LeakyRelu's alpha. */
  | { kind: 'activated'; z: Affine; activation: Activation; negativeSlope?: number }
  | { kind: 'sigmoid'; z: Affine }
  /** coefficient * z * (1 + erf(z / sqrt 2)) when `erf`, else coefficient * z. */
  | { kind: 'product'; z: Affine; coefficient: number; erf: boolean }
  | { kind: 'erf'; z: Affine; factor: number }
  /** scale * (1 + erf(z / sqrt 2)) */
  | { kind: 'erfPlusOne'; z: Affine; scale: number };
type Value = Constant | Symbolic;

const NON_SMOOTH = new Set(['PRelu', 'Elu', 'Selu', 'Celu', 'HardSigmoid', 'HardSwish', 'Abs', 'Clip', 'Sign', 'ThresholdedRelu']);

function nodeLabel(node: NodeProto): string {
  return `node "${node.name || node.output[0] || '?'}" (op ${node.opType || '?'})`;
}

function refuse(node: NodeProto, why: string): never {
  const op = node.opType;
  const hint = NON_SMOOTH.has(op)
    ? 'the Hessian needs a smooth activation, or relu / leaky_relu: use one of them instead of ' + op
    : `hessbound reads MLPs built from: ${SUPPORTED_OPS}`;
  return fail('BAD_MODEL', `${nodeLabel(node)} ${why}`, hint);
}

function attribute(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute.find((a) => a.name === name);
}

function floatAttribute(node: NodeProto, name: string, fallback: number): number {
  const a = attribute(node, name);
  return a ? (a.f ?? fallback) : fallback;
}

function intAttribute(node: NodeProto, name: string, fallback: number): number {
  const a = attribute(node, name);
  return a ? (a.i ?? 0) : fallback;
}

const SQRT1_2 = Math.SQRT1_2;
/** Exporters store 1/sqrt(2) or sqrt(2) in float32; accept them to float32 precision. */
function isAbout(value: number, target: number): boolean {
  return Math.abs(value - target) <= 1e-6 * Math.abs(target);
}

class ChainBuilder {
  readonly layers: Layer[] = [];
  readonly activations: Activation[] = [];
  /** LeakyRelu's alpha per leaky_relu layer. */
  readonly negativeSlopes: number[] = [];
  private readonly committed = new Map<Affine, number>();
  private readonly consumedDepths = new Set<number>();

  /** The depth of a layer's input; each hidden value feeds exactly one layer in a chain. */
  layerInput(value: Value, node: NodeProto): number {
    const depth = this.depthOf(value, node);
    if (this.consumedDepths.has(depth)) this.notChain(node, 'branches: one value feeds two layers');
    this.consumedDepths.add(depth);
    return depth;
  }

  /** Fixes `z` as the next layer (followed by `activation`) and returns the depth of its output. */
  commit(z: Affine, activation: Activation | null, node: NodeProto | null, negativeSlope?: number): number {
    const done = this.committed.get(z);
    if (done !== undefined) {
      if (activation !== null && this.activations[done - 1] !== activation) this.notChain(node, 'applies two different activations to one layer');
      return done;
    }
    if (z.inputDepth !== this.layers.length) this.notChain(node, 'branches: a layer\'s input is used by two paths');
    // Counted as the chain grows: a graph of 100,000 layers is refused at its 1,001st.
    checkLayerCount(this.layers.length + 1, 'the ONNX graph');
    this.layers.push(z.layer);
    if (activation !== null) this.activations.push(activation);
    if (negativeSlope !== undefined) this.negativeSlopes.push(negativeSlope);
    this.committed.set(z, this.layers.length);
    return this.layers.length;
  }

  notChain(node: NodeProto | null, why: string): never {
    if (node) return refuse(node, `is not part of a chain of layers: the graph ${why}`);
    return fail('BAD_MODEL', `the graph is not a chain of layers: it ${why}`, `hessbound reads MLPs built from: ${SUPPORTED_OPS}`);
  }

  /** The hidden depth a value stands for, committing the layer that produced it. */
  depthOf(value: Value, node: NodeProto): number {
    switch (value.kind) {
      case 'hidden':
        return value.depth;
      case 'affine':
        return this.commit(value, 'identity', node);
      case 'activated':
        return this.commit(value.z, value.activation, node, value.negativeSlope);
      case 'sigmoid':
        return this.commit(value.z, 'sigmoid', node);
      case 'product':
        if (value.erf && isAbout(value.coefficient, 0.5)) return this.commit(value.z, 'gelu', node);
        return refuse(node, 'takes a value that is a partial GELU or a scaled layer output, not an activation');
      default:
        return refuse(node, `takes the ${value.kind === 'const' ? 'constant' : 'partial GELU'} input where a layer's input belongs`);
    }
  }
}

function affineFromWeights(node: NodeProto, inputDepth: number, weightOutIn: Constant, bias: Constant | null): Affine {
  const [out, inputs] = weightOutIn.dims as [number, number];
  let b: Float64Array | null = null;
  if (bias) {
    const scalar = bias.values.length === 1 && out !== 1;
    // Broadcast along the batch: [out] or [1, out]; [out, 1] would add per sample, not per unit.
    const shapeOk = scalar || (bias.dims[bias.dims.length - 1] === out && bias.dims.slice(0, -1).every((d) => d === 1));
    if (!shapeOk) refuse(node, `has a bias of shape ${describeShape(bias.dims)} that does not broadcast to its ${out} outputs`);
    b = scalar ? new Float64Array(out).fill(bias.values[0] as number) : Float64Array.from(bias.values);
  }
  return { kind: 'affine', inputDepth, layer: { out, in: inputs, weight: weightOutIn.values, bias: b } };
}

function constantInput(node: NodeProto, value: Value | undefined, role: string): Constant {
  if (!value || value.kind !== 'const') return refuse(node, `needs a constant ${role} (an initializer), but it is computed in the graph`);
  return value;
}

function gemm(node: NodeProto, inputs: Value[], chain: ChainBuilder): Value {
  const [a, b, c] = inputs;
  const transA = intAttribute(node, 'transA', 0);
  const transB = intAttribute(node, 'transB', 0);
  const alpha = floatAttribute(node, 'alpha', 1);
  const beta = floatAttribute(node, 'beta', 1);
  if (!a || a.kind === 'const') return refuse(node, 'multiplies a constant by the weights; its first input must be the layer input');
  if (transA !== 0) return refuse(node, 'transposes the layer input (transA=1); hessbound reads graphs whose values are batch x features');
  const depth = chain.layerInput(a, node);
  const weight = constantInput(node, b, 'weight');
  if (weight.dims.length !== 2) return refuse(node, `has a weight of shape ${describeShape(weight.dims)}; a Gemm weight is 2-D`);
  // Y = alpha * A op(B) + beta * C; op(B) is in x out, so W (out x in) = alpha * op(B)^T.
  const outIn = transB ? weight : transpose2d(weight);
  const scaled: Constant = { kind: 'const', dims: outIn.dims, values: outIn.values.map((v) => alpha * v) };
  const bias = c === undefined ? null : constantInput(node, c, 'bias C');
  const scaledBias = bias ? { ...bias, values: bias.values.map((v) => beta * v) } : null;
  return affineFromWeights(node, depth, scaled, scaledBias);
}

function matMul(node: NodeProto, inputs: Value[], chain: ChainBuilder): Value {
  const [a, b] = inputs;
  if (!a || a.kind === 'const') return refuse(node, 'multiplies a constant on the left; hessbound reads graphs whose values are batch x features (x @ W^T)');
  const depth = chain.layerInput(a, node);
  const weight = constantInput(node, b, 'weight');
  if (weight.dims.length !== 2) return refuse(node, `has a weight of shape ${describeShape(weight.dims)}; a MatMul weight must be 2-D`);
  return affineFromWeights(node, depth, transpose2d(weight), null);
}

function scale(node: NodeProto, value: Symbolic, factor: number): Value {
  if (value.kind === 'affine') return { kind: 'product', z: value, coefficient: factor, erf: false };
  if (value.kind === 'product') return { ...value, coefficient: value.coefficient * factor };
  if (value.kind === 'erfPlusOne') return { ...value, scale: value.scale * factor };
  return refuse(node, 'scales a value that is not part of a GELU');
}

function add(node: NodeProto, [a, b]: Value[]): Value {
  if (!a || !b) return refuse(node, 'needs two inputs');
  const [symbolic, constant] = a.kind === 'const' ? [b, a] : [a, b];
  if (symbolic.kind === 'const' || constant.kind !== 'const') return refuse(node, 'adds two computed values (a residual connection?); only chains of layers are supported');
  if (symbolic.kind === 'affine') {
    const layer = symbolic.layer;
    const bias = affineFromWeights(node, symbolic.inputDepth, { kind: 'const', dims: [layer.out, layer.in], values: layer.weight }, constant).layer.bias as Float64Array;
    const sum = layer.bias ? bias.map((v, i) => v + (layer.bias as Float64Array)[i]!) : bias;
    return { kind: 'affine', inputDepth: symbolic.inputDepth, layer: { ...layer, bias: sum } };
  }
  if (symbolic.kind === 'erf' && scalarOf(constant) === 1) {
    if (!isAbout(symbolic.factor, SQRT1_2)) return refuse(node, `is part of erf(z * ${symbolic.factor}), which is not the exact GELU's erf(z / sqrt 2)`);
    return { kind: 'erfPlusOne', z: symbolic.z, scale: 1 };
  }
  return refuse(node, 'adds a constant to a value that is not a layer output (or 1 to the erf of a GELU)');
}

function mul(node: NodeProto, [a, b]: Value[]): Value {
  if (!a || !b) return refuse(node, 'needs two inputs');
  if (a.kind === 'const' || b.kind === 'const') {
    const [symbolic, constant] = (a.kind === 'const' ? [b, a] : [a, b]) as [Value, Constant];
    const factor = scalarOf(constant);
    if (symbolic.kind === 'const' || factor === null) return refuse(node, 'multiplies by a non-scalar constant');
    return scale(node, symbolic, factor);
  }
  for (const [left, right] of [[a, b], [b, a]] as const) {
    const z = left.kind === 'affine' ? left : left.kind === 'product' && !left.erf ? left.z : null;
    const coefficient = left.kind === 'product' ? left.coefficient : 1;
    if (z && right.kind === 'sigmoid' && right.z === z && coefficient === 1) return { kind: 'activated', z, activation: 'silu' };
    if (z && right.kind === 'erfPlusOne' && right.z === z) return { kind: 'product', z, coefficient: coefficient * right.scale, erf: true };
  }
  return refuse(node, 'multiplies two computed values that are not z * sigmoid(z) (SiLU) or z * (1 + erf(z / sqrt 2)) (GELU)');
}

function unaryOf(node: NodeProto, inputs: Value[]): Symbolic {
  const value = inputs[0];
  if (!value || value.kind === 'const') return refuse(node, 'applies an activation to a constant');
  return value;
}

function activation(node: NodeProto, value: Symbolic, name: Activation): Value {
  if (value.kind !== 'affine') return refuse(node, `applies ${name} to something other than a layer's output`);
  return name === 'sigmoid' ? { kind: 'sigmoid', z: value } : { kind: 'activated', z: value, activation: name };
}

/**
 * LeakyRelu's alpha is a float32 attribute: PyTorch's 0.2 arrives as 0.2000000029802. Take the
 * shortest decimal that rounds to the same float32 (0.2), the slope the model was made with.
 */
function intendedSlope(alpha: number): number {
  for (let digits = 1; digits <= 9; digits++) {
    const decimal = Number(alpha.toPrecision(digits));
    if (Math.fround(decimal) === Math.fround(alpha)) return decimal;
  }
  return alpha;
}

function constantNode(node: NodeProto): Constant {
  const tensor = attribute(node, 'value')?.t;
  if (tensor) return tensorValues(tensor, nodeLabel(node));
  const f = attribute(node, 'value_float');
  if (f) return { kind: 'const', dims: [], values: Float64Array.of(f.f ?? 0) };
  const fs = attribute(node, 'value_floats');
  if (fs) return { kind: 'const', dims: [fs.floats.length], values: Float64Array.from(fs.floats) };
  return refuse(node, 'is a constant of a kind hessbound does not read (not a float tensor)');
}

function evaluate(node: NodeProto, inputs: Value[], chain: ChainBuilder): Value {
  const op = node.opType;
  if (inputs.every((v) => v.kind === 'const') && (op === 'Identity' || op === 'Transpose')) {
    const c = inputs[0] as Constant | undefined;
    if (!c) return refuse(node, 'has no input');
    if (op === 'Identity') return c;
    if (c.dims.length !== 2) return refuse(node, `transposes a constant of shape ${describeShape(c.dims)}; only 2-D weights are supported`);
    return transpose2d(c);
  }
  switch (op) {
    case 'Constant':
      return constantNode(node);
    case 'Gemm':
      return gemm(node, inputs, chain);
    case 'MatMul':
      return matMul(node, inputs, chain);
    case 'Add':
      return add(node, inputs);
    case 'Mul':
      return mul(node, inputs);
    case 'Div': {
      const divisor = inputs[1]?.kind === 'const' ? scalarOf(inputs[1]) : null;
      const first = inputs[0];
      if (!first || first.kind === 'const' || divisor === null || divisor === 0) return refuse(node, 'divides by something other than a nonzero scalar constant');
      return scale(node, first, 1 / divisor);
    }
    case 'Erf': {
      const value = unaryOf(node, inputs);
      if (value.kind === 'affine') return { kind: 'erf', z: value, factor: 1 };
      if (value.kind === 'product' && !value.erf) return { kind: 'erf', z: value.z, factor: value.coefficient };
      return refuse(node, 'takes the erf of something that is not a scaled layer output');
    }
    case 'Identity':
      return unaryOf(node, inputs);
    case 'Tanh':
      return activation(node, unaryOf(node, inputs), 'tanh');
    case 'Sigmoid':
      return activation(node, unaryOf(node, inputs), 'sigmoid');
    case 'Softplus':
      return activation(node, unaryOf(node, inputs), 'softplus');
    case 'Relu':
      return activation(node, unaryOf(node, inputs), 'relu');
    case 'LeakyRelu': {
      const value = activation(node, unaryOf(node, inputs), 'leaky_relu');
      return { ...(value as Symbolic & { kind: 'activated' }), negativeSlope: intendedSlope(floatAttribute(node, 'alpha', 0.01)) };
    }
    case 'Gelu': {
      const approximate = attribute(node, 'approximate')?.s;
      const mode = approximate ? new TextDecoder().decode(approximate) : 'none';
      if (mode !== 'none') return refuse(node, `is the ${mode} approximation of GELU; hessbound's gelu is the exact (erf) one`);
      return activation(node, unaryOf(node, inputs), 'gelu');
    }
    default:
      return refuse(node, 'is not supported');
  }
}

function decode(bytes: Uint8Array): ModelProto {
  try {
    return decodeOnnxModel(bytes);
  } catch (err) {
    return fail('BAD_MODEL', `the file is not a readable ONNX model: ${err instanceof Error ? err.message : String(err)}`,
      'the file is truncated or not an .onnx file; export it again with torch.onnx.export');
  }
}

/** An MLP from an ONNX model whose graph is a chain of affine layers and one activation. */
export function modelFromOnnx(input: Uint8Array | ArrayBuffer): Model {
  const bytes = asBytes(input, 'an ONNX model', 'BAD_MODEL');
  try {
    return readGraph(decode(bytes));
  } catch (err) {
    if (err instanceof HessboundError) throw err;
    // A safety net: anything the graph walk did not foresee is still a BAD_MODEL, not a crash.
    return fail('BAD_MODEL', `the ONNX model is malformed: ${err instanceof Error ? err.message : String(err)}`, 'export it again with torch.onnx.export');
  }
}

function readGraph(model: ModelProto): Model {
  const graph = model.graph;
  if (!graph || graph.node.length === 0) fail('BAD_MODEL', 'the ONNX model has no graph nodes', 'export it again with torch.onnx.export');
  const values = new Map<string, Value>();
  // Initializers are converted when a node uses them, so that an unused one (or one of a node
  // that is refused anyway) does not cause a misleading error.
  const initializers = new Map(graph.initializer.map((init) => [init.name, init]));
  const lookup = (name: string): Value | undefined => {
    const init = values.has(name) ? undefined : initializers.get(name);
    if (init) values.set(name, tensorValues(init, `initializer "${name}"`));
    return values.get(name);
  };
  const dataInputs = graph.input.filter((i) => !initializers.has(i.name));
  if (dataInputs.length !== 1) {
    fail('BAD_MODEL', `the ONNX graph has ${dataInputs.length} data inputs (${dataInputs.map((i) => i.name).join(', ')}); an MLP has one`,
      'export with the weights as initializers and one input tensor (batch x features)');
  }
  values.set(dataInputs[0]?.name ?? '', { kind: 'hidden', depth: 0 });
  const chain = new ChainBuilder();
  for (const node of graph.node) {
    const inputs = node.input.filter((name) => name !== '').map((name) => {
      const value = lookup(name);
      if (!value) return refuse(node, `uses the value "${name}", which no earlier node or initializer produces`);
      return value;
    });
    const outputs = node.output;
    if (outputs.length !== 1) refuse(node, `has ${outputs.length} outputs; supported nodes have one`);
    values.set(outputs[0] as string, evaluate(node, inputs, chain));
  }
  const outputs = graph.output;
  if (outputs.length !== 1) fail('BAD_MODEL', `the ONNX graph has ${outputs.length} outputs; an MLP has one (the logits)`);
  const logits = lookup(outputs[0]?.name ?? '');
  if (!logits || logits.kind !== 'affine') {
    fail('BAD_MODEL', `the ONNX graph's output "${outputs[0]?.name ?? ''}" is not the output of a linear layer`,
      'export the logits: no activation, Softmax or LogSoftmax after the last layer (hessbound applies softmax cross-entropy itself)');
  }
  chain.commit(logits, null, null);
  const kinds = [...new Set(chain.activations)];
  if (kinds.length > 1) fail('BAD_MODEL', `the hidden layers use different activations (${chain.activations.join(', ')}); hessbound's MLPs use one`);
  const slopes = [...new Set(chain.negativeSlopes)];
  if (slopes.length > 1) fail('BAD_MODEL', `the hidden layers use LeakyRelu with different slopes (${chain.negativeSlopes.join(', ')}); hessbound's MLPs use one`);
  const activation = kinds[0] ?? 'identity';
  return validateModel(activation === 'leaky_relu' ? { activation, negativeSlope: slopes[0] as number, layers: chain.layers } : { activation, layers: chain.layers });
}
