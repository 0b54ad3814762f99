/**
 * ONNX graphs built here with onnx-proto (the exporters' own files are in io-interop.test.ts):
 * Gemm with transB/alpha/beta, MatMul + Add, the Erf form of GELU in either multiplication order,
 * SiLU, Identity, Constant nodes; and refusals that name the node and its op.
 */
import onnxProto from 'onnx-proto';
import { PbfWriter } from 'pbf';
import { describe, expect, it } from 'vitest';
import { HessboundError } from '../src/errors.js';
import { modelFromOnnx } from '../src/io/onnx.js';
import { parseModel } from '../src/io/model-source.js';

const { onnx } = onnxProto;
type Node = { op: string; inputs: string[]; output: string; name?: string; attributes?: onnxProto.onnx.IAttributeProto[] };

function tensor(name: string, dims: number[], values: number[], dataType = 1): onnxProto.onnx.ITensorProto {
  if (dataType === 11) return { name, dims, dataType, doubleData: values };
  if (dataType === 1) return { name, dims, dataType, rawData: new Uint8Array(Float32Array.from(values).buffer) };
  return { name, dims, dataType, int32Data: values };
}

function model(nodes: Node[], initializers: onnxProto.onnx.ITensorProto[], output = nodes[nodes.length - 1]!.output): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create({
    irVersion: 7,
    producerName: 'hessbound-test',
    graph: {
      name: 'g',
      node: nodes.map((n, i) => ({ opType: n.op, input: n.inputs, output: [n.output], name: n.name ?? `n${i}`, attribute: n.attributes ?? [] })),
      initializer: initializers,
      input: [{ name: 'x' }],
      output: [{ name: output }],
    },
  })).finish();
}

const int = (name: string, i: number): onnxProto.onnx.IAttributeProto => ({ name, i, type: onnx.AttributeProto.AttributeType.INT });
const float = (name: string, f: number): onnxProto.onnx.IAttributeProto => ({ name, f, type: onnx.AttributeProto.AttributeType.FLOAT });

// Layer 1: 2 -> 3 (W1 out x in), layer 2: 3 -> 2.
const W1 = [1, 2, 3, 4, 5, 6];
const B1 = [0.5, -0.5, 0.25];
const W2 = [1, 0, -1, 2, 1, 0];
const B2 = [0.125, -0.125];
const transpose = (w: number[], rows: number, cols: number) => Array.from({ length: w.length }, (_, k) => w[(k % rows) * cols + Math.floor(k / rows)]!);
const weights = [tensor('W1', [3, 2], W1, 11), tensor('B1', [3], B1, 11), tensor('W2', [2, 3], W2, 11), tensor('B2', [2], B2, 11)];

function expectRefusal(bytes: Uint8Array, message: RegExp, hint?: RegExp): void {
  try {
    modelFromOnnx(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(HessboundError);
    expect((err as HessboundError).code).toBe('BAD_MODEL');
    expect((err as HessboundError).message).toMatch(message);
    if (hint) expect((err as HessboundError).hint).toMatch(hint);
    return;
  }
  throw new Error('expected a refusal');
}

describe('ONNX graphs that are MLPs', () => {
  it('Gemm with transB=1 and Tanh', () => {
    const m = modelFromOnnx(model([
      { op: 'Gemm', inputs: ['x', 'W1', 'B1'], output: 'z1', attributes: [int('transB', 1)] },
      { op: 'Tanh', inputs: ['z1'], output: 'h1' },
      { op: 'Gemm', inputs: ['h1', 'W2', 'B2'], output: 'y', attributes: [int('transB', 1)] },
    ], weights));
    expect(m.activation).toBe('tanh');
    expect([...m.layers[0]!.weight]).toEqual(W1);
    expect([...m.layers[1]!.bias!]).toEqual(B2);
  });
  it('Gemm with transB=0 (in x out weights), alpha and beta', () => {
    const m = modelFromOnnx(model([
      { op: 'Gemm', inputs: ['x', 'W1t', 'B1'], output: 'z1', attributes: [float('alpha', 2), float('beta', 0.5)] },
      { op: 'Softplus', inputs: ['z1'], output: 'h1' },
      { op: 'Gemm', inputs: ['h1', 'W2', 'B2'], output: 'y', attributes: [int('transB', 1)] },
    ], [tensor('W1t', [2, 3], transpose(W1, 3, 2), 11), ...weights.slice(1)]));
    expect(m.activation).toBe('softplus');
    expect([...m.layers[0]!.weight]).toEqual(W1.map((v) => 2 * v));
    expect([...m.layers[0]!.bias!]).toEqual(B1.map((v) => 0.5 * v));
  });
  it('MatMul + Add, GELU as 0.5 * z * (1 + erf(z / sqrt 2)) with Constant nodes, float32 weights', () => {
    const c = (output: string, value: number): Node => ({ op: 'Constant', inputs: [], output, attributes: [{ name: 'value', t: tensor('', [], [value]), type: onnx.AttributeProto.AttributeType.TENSOR }] });
    const m = modelFromOnnx(model([
      { op: 'MatMul', inputs: ['x', 'W1t'], output: 'm1' },
      { op: 'Add', inputs: ['B1', 'm1'], output: 'z1' },
      c('half', 0.5), c('one', 1), c('sqrt2', Math.SQRT2),
      { op: 'Mul', inputs: ['half', 'z1'], output: 'hz' }, // the 0.5 first, as some exporters do
      { op: 'Div', inputs: ['z1', 'sqrt2'], output: 'u' },
      { op: 'Erf', inputs: ['u'], output: 'e' },
      { op: 'Add', inputs: ['e', 'one'], output: 'e1' },
      { op: 'Mul', inputs: ['e1', 'hz'], output: 'h1' },
      { op: 'MatMul', inputs: ['h1', 'W2t'], output: 'y' },
    ], [tensor('W1t', [2, 3], transpose(W1, 3, 2)), tensor('B1', [1, 3], B1), tensor('W2t', [3, 2], transpose(W2, 2, 3))]));
    expect(m.activation).toBe('gelu');
    expect([...m.layers[0]!.weight]).toEqual(W1);
    expect([...m.layers[0]!.bias!]).toEqual(B1);
    expect(m.layers[1]!.bias).toBeNull();
  });
  it('Relu, and LeakyRelu with its alpha (float32, read as the shortest decimal; ONNX default 0.01)', () => {
    const gemm = (input: string, output: string, w: string, b: string): Node => ({ op: 'Gemm', inputs: [input, w, b], output, attributes: [int('transB', 1)] });
    const relu = modelFromOnnx(model([gemm('x', 'z1', 'W1', 'B1'), { op: 'Relu', inputs: ['z1'], output: 'h1' }, gemm('h1', 'y', 'W2', 'B2')], weights));
    expect([relu.activation, relu.negativeSlope]).toEqual(['relu', undefined]);
    const leaky = (attributes: onnxProto.onnx.IAttributeProto[]) =>
      modelFromOnnx(model([gemm('x', 'z1', 'W1', 'B1'), { op: 'LeakyRelu', inputs: ['z1'], output: 'h1', attributes }, gemm('h1', 'y', 'W2', 'B2')], weights));
    // onnx-proto stores `f` as float32: 0.2 arrives as 0.20000000298023224.
    expect(leaky([float('alpha', 0.2)]).negativeSlope).toBe(0.2);
    expect(leaky([float('alpha', 0.125)]).negativeSlope).toBe(0.125);
    expect(leaky([])).toMatchObject({ activation: 'leaky_relu', negativeSlope: 0.01 });
    // Two hidden layers with different slopes are not one activation.
    const W3 = tensor('W3', [3, 3], [1, 0, 0, 0, 1, 0, 0, 0, 1], 11);
    const B3 = tensor('B3', [3], [0, 0, 0], 11);
    expectRefusal(model([
      gemm('x', 'z1', 'W1', 'B1'), { op: 'LeakyRelu', inputs: ['z1'], output: 'h1', attributes: [float('alpha', 0.2)] },
      gemm('h1', 'z2', 'W3', 'B3'), { op: 'LeakyRelu', inputs: ['z2'], output: 'h2', attributes: [float('alpha', 0.1)] },
      gemm('h2', 'y', 'W2', 'B2'),
    ], [...weights, W3, B3]), /different slopes/);
  });
  it('SiLU as z * Sigmoid(z), the Gelu op, Identity', () => {
    const silu = modelFromOnnx(model([
      { op: 'Gemm', inputs: ['x', 'W1', 'B1'], output: 'z1', attributes: [int('transB', 1)] },
      { op: 'Sigmoid', inputs: ['z1'], output: 's' },
      { op: 'Mul', inputs: ['z1', 's'], output: 'h1' },
      { op: 'Identity', inputs: ['h1'], output: 'h1b' },
      { op: 'Gemm', inputs: ['h1b', 'W2', 'B2'], output: 'y', attributes: [int('transB', 1)] },
    ], weights));
    expect(silu.activation).toBe('silu');
    const gelu = modelFromOnnx(model([
      { op: 'Gemm', inputs: ['x', 'W1', 'B1'], output: 'z1', attributes: [int('transB', 1)] },
      { op: 'Gelu', inputs: ['z1'], output: 'h1' },
      { op: 'Gemm', inputs: ['h1', 'W2', 'B2'], output: 'y', attributes: [int('transB', 1)] },
    ], weights));
    expect(gelu.activation).toBe('gelu');
  });
  it('unused integer initializers (shape constants) are ignored', () => {
    const m = modelFromOnnx(model([
      { op: 'Gemm', inputs: ['x', 'W1', 'B1'], output: 'z1', attributes: [int('transB', 1)] },
      { op: 'Gemm', inputs: ['z1', 'W2', 'B2'], output: 'y', attributes: [int('transB', 1)] },
    ], [...weights, tensor('shape', [2], [1, -1], 6)]));
    expect(m.layers).toHaveLength(2);
  });
  it('is found by its magic bytes', () => {
    const bytes = model([
      { op: 'Gemm', inputs: ['x', 'W1', 'B1'], output: 'z1', attributes: [int('transB', 1)] },
      { op: 'Gemm', inputs: ['z1', 'W2', 'B2'], output: 'y', attributes: [int('transB', 1)] },
    ], weights);
    expect(parseModel(bytes).activation).toBe('identity');
  });
});

describe('ONNX graphs that are refused, naming the node and its op', () => {
  const gemm = (input: string, output: string, w: string, b: string, name?: string): Node => ({ op: 'Gemm', inputs: [input, w, b], output, attributes: [int('transB', 1)], ...(name ? { name } : {}) });
  it('Elu (not smooth, not piecewise linear), LayerNormalization, Conv', () => {
    expectRefusal(model([gemm('x', 'z1', 'W1', 'B1'), { op: 'Elu', inputs: ['z1'], output: 'h1', name: '/net/act' }, gemm('h1', 'y', 'W2', 'B2')], weights),
      /node "\/net\/act" \(op Elu\) is not supported/, /smooth activation, or relu/);
    expectRefusal(model([gemm('x', 'z1', 'W1', 'B1'), { op: 'LayerNormalization', inputs: ['z1', 'B1'], output: 'h1', name: 'ln' }, gemm('h1', 'y', 'W2', 'B2')], weights),
      /node "ln" \(op LayerNormalization\) is not supported/, /Gemm, MatMul/);
    expectRefusal(model([{ op: 'Conv', inputs: ['x', 'W1'], output: 'y', name: 'conv1' }], weights), /node "conv1" \(op Conv\)/);
  });
  it('a graph that is not a chain (a residual connection, a branch)', () => {
    expectRefusal(model([gemm('x', 'z1', 'W1', 'B1'), { op: 'Tanh', inputs: ['z1'], output: 'h1' }, { op: 'Add', inputs: ['h1', 'z1'], output: 'r', name: 'residual' }, gemm('r', 'y', 'W2', 'B2')], weights),
      /node "residual" \(op Add\) adds two computed values/);
    expectRefusal(model([gemm('x', 'z1', 'W1', 'B1'), { op: 'Tanh', inputs: ['z1'], output: 'h1' }, gemm('h1', 'y1', 'W2', 'B2', 'a'), gemm('h1', 'y', 'W2', 'B2', 'b')], weights, 'y'),
      /node "b" \(op Gemm\) is not part of a chain of layers: the graph branches/);
  });
  it('a Softmax after the logits, mixed activations, the tanh approximation of GELU', () => {
    expectRefusal(model([gemm('x', 'z1', 'W1', 'B1'), { op: 'Tanh', inputs: ['z1'], output: 'h1' }, gemm('h1', 'z2', 'W2', 'B2'), { op: 'Softmax', inputs: ['z2'], output: 'p', name: 'sm' }], weights),
      /node "sm" \(op Softmax\)/);
    expectRefusal(model([gemm('x', 'z1', 'W1', 'B1'), { op: 'Tanh', inputs: ['z1'], output: 'h1' }, gemm('h1', 'z2', 'W2', 'B2'), { op: 'Tanh', inputs: ['z2'], output: 'y' }], weights),
      /output "y" is not the output of a linear layer/, /logits/);
    expectRefusal(model([
      { op: 'Gemm', inputs: ['x', 'W1', 'B1'], output: 'z1', attributes: [int('transB', 1)] },
      { op: 'Gelu', inputs: ['z1'], output: 'h1', name: 'g', attributes: [{ name: 'approximate', s: new TextEncoder().encode('tanh'), type: onnx.AttributeProto.AttributeType.STRING }] },
      { op: 'Gemm', inputs: ['h1', 'W2', 'B2'], output: 'y', attributes: [int('transB', 1)] },
    ], weights), /node "g" \(op Gelu\) is the tanh approximation/);
    const deeper = [...weights, tensor('W3', [2, 2], [1, 0, 0, 1], 11)];
    expectRefusal(model([gemm('x', 'z1', 'W1', 'B1'), { op: 'Tanh', inputs: ['z1'], output: 'h1' }, gemm('h1', 'z2', 'W2', 'B2'), { op: 'Sigmoid', inputs: ['z2'], output: 'h2' },
      { op: 'MatMul', inputs: ['h2', 'W3'], output: 'y' }], deeper), /different activations \(tanh, sigmoid\)/);
  });
  it('a bias that would broadcast per sample ([out, 1])', () => {
    expectRefusal(model([gemm('x', 'z1', 'W1', 'B1c', 'first'), gemm('z1', 'y', 'W2', 'B2')], [...weights, tensor('B1c', [3, 1], B1, 11)]),
      /node "first" \(op Gemm\) has a bias of shape \[3, 1\] that does not broadcast/);
  });
  it('integer weights, weights computed in the graph, external data, garbage bytes', () => {
    expectRefusal(model([gemm('x', 'z1', 'W1', 'B1'), gemm('z1', 'y', 'W2', 'B2')], [tensor('W1', [3, 2], W1, 6), ...weights.slice(1)]),
      /initializer "W1" holds INT32 values; weights must be floating point/);
    expectRefusal(model([gemm('x', 'z1', 'W1', 'B1'), { op: 'Tanh', inputs: ['z1'], output: 'h1' }, { op: 'MatMul', inputs: ['h1', 'h1'], output: 'y', name: 'mm' }], weights),
      /node "mm" \(op MatMul\) needs a constant weight/);
    expectRefusal(model([gemm('x', 'z1', 'W1', 'B1'), gemm('z1', 'y', 'W2', 'B2')], [{ name: 'W1', dims: [3, 2], dataType: 1, dataLocation: 1 }, ...weights.slice(1)]),
      /external file/);
    expectRefusal(Uint8Array.of(0x08, 0x07, 0x12, 0xff, 0xff, 0x01), /not a readable ONNX model/);
  });
});

describe('the ONNX protobuf decoder (src/io/onnx-proto.ts)', () => {
  const chain: Node[] = [
    { op: 'Gemm', inputs: ['x', 'W1', 'B1'], output: 'z1', attributes: [int('transB', 1)] },
    { op: 'Tanh', inputs: ['z1'], output: 'h1' },
    { op: 'Gemm', inputs: ['h1', 'W2', 'B2'], output: 'y', attributes: [int('transB', 1)] },
  ];

  it('reads repeated numbers written unpacked (proto2 writers) as it reads packed ones', () => {
    // The same graph as onnx-proto writes it (packed), but written field by field with pbf's writer.
    const w = new PbfWriter();
    w.writeVarintField(1, 7); // ir_version
    w.writeMessage(7, (_: unknown, g: PbfWriter) => {
      chain.forEach((n, i) => g.writeMessage(1, (_2: unknown, m: PbfWriter) => {
        for (const name of n.inputs) m.writeStringField(1, name);
        m.writeStringField(2, n.output);
        m.writeStringField(3, `n${i}`);
        m.writeStringField(4, n.op);
        for (const a of n.attributes ?? []) m.writeMessage(5, (_3: unknown, at: PbfWriter) => { at.writeStringField(1, a.name!); at.writeVarintField(3, Number(a.i)); at.writeVarintField(20, 2); });
        m.writeStringField(6, 'a doc string hessbound skips');
      }, null));
      for (const t of weights) g.writeMessage(5, (_2: unknown, m: PbfWriter) => {
        for (const d of t.dims!) m.writeVarintField(1, Number(d));
        m.writeVarintField(2, 11);
        m.writeStringField(8, t.name!);
        for (const v of t.doubleData!) m.writeDoubleField(10, v);
      }, null);
      g.writeMessage(11, (_2: unknown, m: PbfWriter) => m.writeStringField(1, 'x'), null);
      g.writeMessage(12, (_2: unknown, m: PbfWriter) => m.writeStringField(1, 'y'), null);
    }, null);
    const unpacked = modelFromOnnx(w.finish());
    const packed = modelFromOnnx(model(chain, weights));
    expect(unpacked).toEqual(packed);
    expect([...unpacked.layers[0]!.weight]).toEqual(W1);
  });

  it('refuses every truncation of a valid file with BAD_MODEL (no short read passes as a model)', () => {
    const bytes = model(chain, weights);
    expect(modelFromOnnx(bytes).layers).toHaveLength(2);
    for (let cut = 0; cut < bytes.length; cut++) {
      expect(() => modelFromOnnx(bytes.subarray(0, cut)), `cut at ${cut}`).toThrow(HessboundError);
    }
  });

  it('refuses a length that runs past the end and wire types ONNX never uses', () => {
    expectRefusal(Uint8Array.of(0x3a, 0x7f, 0x0a, 0x00), /not a readable ONNX model: field 7 of the ModelProto runs past the end of the file/);
    expectRefusal(Uint8Array.of(0x0b, 0x00), /wire type 3/);
  });
});
