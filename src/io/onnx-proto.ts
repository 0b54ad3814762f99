/**
 * The few ONNX protobuf messages hessbound reads (onnx.proto: ModelProto.graph, GraphProto's
 * nodes, initializers, inputs and outputs, NodeProto, AttributeProto, TensorProto), decoded with
 * the small maintained `pbf` reader. Unknown fields are skipped, as protobuf requires; repeated
 * numbers are read packed or unpacked (proto2 writers use either). Every length is checked against
 * the bytes that are there, so a truncated or corrupt file is an error, never a silent short read.
 */
import { PbfReader } from 'pbf';

export interface TensorProto {
  dims: number[];
  dataType: number;
  floatData: number[];
  int32Data: number[];
  doubleData: number[];
  rawData: Uint8Array | null;
  name: string;
  /** 0: DEFAULT (values in this file), 1: EXTERNAL. */
  dataLocation: number;
}

export interface AttributeProto {
  name: string;
  f: number | null;
  i: number | null;
  s: Uint8Array | null;
  t: TensorProto | null;
  floats: number[];
  ints: number[];
}

export interface NodeProto {
  input: string[];
  output: string[];
  name: string;
  opType: string;
  attribute: AttributeProto[];
}

export interface ValueInfoProto {
  name: string;
}

export interface GraphProto {
  node: NodeProto[];
  initializer: TensorProto[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
}

export interface ModelProto {
  graph: GraphProto | null;
}

/** ONNX TensorProto.DataType names, for messages. */
export const DATA_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'UNDEFINED', 1: 'FLOAT', 2: 'UINT8', 3: 'INT8', 4: 'UINT16', 5: 'INT16', 6: 'INT32', 7: 'INT64', 8: 'STRING', 9: 'BOOL',
  10: 'FLOAT16', 11: 'DOUBLE', 12: 'UINT32', 13: 'UINT64', 14: 'COMPLEX64', 15: 'COMPLEX128', 16: 'BFLOAT16',
  17: 'FLOAT8E4M3FN', 18: 'FLOAT8E4M3FNUZ', 19: 'FLOAT8E5M2', 20: 'FLOAT8E5M2FNUZ', 21: 'UINT4', 22: 'INT4', 23: 'FLOAT4E2M1',
};

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_BYTES = 2;
const WIRE_FIXED32 = 5;

class Reader {
  private readonly pbf: PbfReader;
  constructor(private readonly bytes: Uint8Array) {
    this.pbf = new PbfReader(bytes);
  }

  private wire(): number {
    return (this.pbf as unknown as { type: number }).type;
  }

  private expect(wire: number, what: string): void {
    if (this.wire() !== wire) throw new Error(`${what} has wire type ${this.wire()}, expected ${wire}`);
  }

  /** The end of the length-delimited value that starts here, checked against the buffer. */
  private lengthEnd(what: string): number {
    const length = this.pbf.readVarint();
    const end = this.pbf.pos + length;
    if (!Number.isSafeInteger(length) || length < 0 || end > this.bytes.length) throw new Error(`${what} runs past the end of the file`);
    return end;
  }

  /** Calls `field` for each field of the message that ends at `end`; unknown ones are skipped. */
  fields(end: number, what: string, field: (tag: number) => void): void {
    const pbf = this.pbf;
    for (;;) {
      if (pbf.pos > end) throw new Error(`a field of ${what} runs past its end`);
      const tag = pbf.nextField(end);
      if (tag === 0) break;
      const wire = this.wire();
      if (wire !== WIRE_VARINT && wire !== WIRE_FIXED64 && wire !== WIRE_BYTES && wire !== WIRE_FIXED32)
        throw new Error(`${what} has a field of wire type ${wire}, which ONNX does not use`);
      if (wire === WIRE_BYTES) {
        // Check the length before pbf reads or skips it (pbf trusts it).
        const start = pbf.pos;
        this.lengthEnd(`field ${tag} of ${what}`);
        pbf.pos = start;
      }
      field(tag);
    }
    if (pbf.pos !== end) throw new Error(`${what} ends inside a field`);
  }

  message<T>(what: string, read: (end: number) => T): T {
    this.expect(WIRE_BYTES, what);
    const end = this.lengthEnd(what);
    return read(end);
  }

  string(what: string): string {
    this.expect(WIRE_BYTES, what);
    return this.pbf.readString();
  }

  bytesField(what: string): Uint8Array {
    this.expect(WIRE_BYTES, what);
    return this.pbf.readBytes();
  }

  /** An int32/int64/enum varint; negative values come back negative. */
  int(what: string): number {
    this.expect(WIRE_VARINT, what);
    return this.pbf.readVarint(true);
  }

  float(what: string): number {
    this.expect(WIRE_FIXED32, what);
    return this.pbf.readFloat();
  }

  ints(into: number[], what: string): void {
    if (this.wire() === WIRE_BYTES) this.packed(into, what, () => this.pbf.readVarint(true));
    else into.push(this.int(what));
  }

  floats(into: number[], what: string): void {
    if (this.wire() === WIRE_BYTES) this.packed(into, what, () => this.pbf.readFloat(), 4);
    else into.push(this.float(what));
  }

  doubles(into: number[], what: string): void {
    if (this.wire() === WIRE_BYTES) this.packed(into, what, () => this.pbf.readDouble(), 8);
    else {
      this.expect(WIRE_FIXED64, what);
      into.push(this.pbf.readDouble());
    }
  }

  private packed(into: number[], what: string, next: () => number, width = 0): void {
    const end = this.lengthEnd(what);
    if (width > 0 && (end - this.pbf.pos) % width !== 0) throw new Error(`${what} has a length that is not a multiple of ${width}`);
    while (this.pbf.pos < end) into.push(next());
    if (this.pbf.pos !== end) throw new Error(`${what} ends inside a value`);
  }
}

function tensor(r: Reader, end: number): TensorProto {
  const t: TensorProto = { dims: [], dataType: 0, floatData: [], int32Data: [], doubleData: [], rawData: null, name: '', dataLocation: 0 };
  r.fields(end, 'a TensorProto', (tag) => {
    if (tag === 1) r.ints(t.dims, 'TensorProto.dims');
    else if (tag === 2) t.dataType = r.int('TensorProto.data_type');
    else if (tag === 4) r.floats(t.floatData, 'TensorProto.float_data');
    else if (tag === 5) r.ints(t.int32Data, 'TensorProto.int32_data');
    else if (tag === 8) t.name = r.string('TensorProto.name');
    else if (tag === 9) t.rawData = r.bytesField('TensorProto.raw_data');
    else if (tag === 10) r.doubles(t.doubleData, 'TensorProto.double_data');
    else if (tag === 14) t.dataLocation = r.int('TensorProto.data_location');
  });
  return t;
}

function attribute(r: Reader, end: number): AttributeProto {
  const a: AttributeProto = { name: '', f: null, i: null, s: null, t: null, floats: [], ints: [] };
  r.fields(end, 'an AttributeProto', (tag) => {
    if (tag === 1) a.name = r.string('AttributeProto.name');
    else if (tag === 2) a.f = r.float('AttributeProto.f');
    else if (tag === 3) a.i = r.int('AttributeProto.i');
    else if (tag === 4) a.s = r.bytesField('AttributeProto.s');
    else if (tag === 5) a.t = r.message('AttributeProto.t', (e) => tensor(r, e));
    else if (tag === 7) r.floats(a.floats, 'AttributeProto.floats');
    else if (tag === 8) r.ints(a.ints, 'AttributeProto.ints');
  });
  return a;
}

function node(r: Reader, end: number): NodeProto {
  const n: NodeProto = { input: [], output: [], name: '', opType: '', attribute: [] };
  r.fields(end, 'a NodeProto', (tag) => {
    if (tag === 1) n.input.push(r.string('NodeProto.input'));
    else if (tag === 2) n.output.push(r.string('NodeProto.output'));
    else if (tag === 3) n.name = r.string('NodeProto.name');
    else if (tag === 4) n.opType = r.string('NodeProto.op_type');
    else if (tag === 5) n.attribute.push(r.message('NodeProto.attribute', (e) => attribute(r, e)));
  });
  return n;
}

function valueInfo(r: Reader, end: number): ValueInfoProto {
  const v: ValueInfoProto = { name: '' };
  r.fields(end, 'a ValueInfoProto', (tag) => {
    if (tag === 1) v.name = r.string('ValueInfoProto.name');
  });
  return v;
}

function graph(r: Reader, end: number): GraphProto {
  const g: GraphProto = { node: [], initializer: [], input: [], output: [] };
  r.fields(end, 'the GraphProto', (tag) => {
    if (tag === 1) g.node.push(r.message('GraphProto.node', (e) => node(r, e)));
    else if (tag === 5) g.initializer.push(r.message('GraphProto.initializer', (e) => tensor(r, e)));
    else if (tag === 11) g.input.push(r.message('GraphProto.input', (e) => valueInfo(r, e)));
    else if (tag === 12) g.output.push(r.message('GraphProto.output', (e) => valueInfo(r, e)));
  });
  return g;
}

/** Decodes a ModelProto; throws a plain Error saying where the bytes stop making sense. */
export function decodeOnnxModel(bytes: Uint8Array): ModelProto {
  const r = new Reader(bytes);
  const model: ModelProto = { graph: null };
  r.fields(bytes.length, 'the ModelProto', (tag) => {
    if (tag === 7) model.graph = r.message('ModelProto.graph', (e) => graph(r, e));
  });
  return model;
}
