// A small graph builder over onnx-proto (protobufjs code generated from onnx.proto).
// Weights go to one external-data file per graph so a package can be memory-mapped and
// each graph stays far below protobuf's 2 GB limit.
import onnxProto from "onnx-proto";
import type { onnx as P } from "onnx-proto";

const { onnx } = onnxProto;

export type ElemType = "float32" | "float16" | "uint8" | "int32" | "int64";

const ELEM: Record<ElemType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float16: onnx.TensorProto.DataType.FLOAT16,
  uint8: onnx.TensorProto.DataType.UINT8,
  int32: onnx.TensorProto.DataType.INT32,
  int64: onnx.TensorProto.DataType.INT64,
};

type Dim = number | string;
type AttrValue = number | string | number[] | { float: number };

export interface WeightBlob {
  chunks: Uint8Array[];
  length: number;
  /** Where each weight landed in the external data file (64-byte aligned), so JS can read rows back. */
  offsets: Map<string, { offset: number; length: number }>;
}

const EXTERNAL_ALIGNMENT = 64;

export class GraphBuilder {
  private readonly nodes: P.INodeProto[] = [];
  private readonly initializers: P.ITensorProto[] = [];
  private readonly inputs: P.IValueInfoProto[] = [];
  private readonly outputs: P.IValueInfoProto[] = [];
  private readonly blob: WeightBlob = { chunks: [], length: 0, offsets: new Map() };
  private counter = 0;

  constructor(
    readonly name: string,
    /** File name (relative to the graph) that receives the weights. */
    private readonly externalFile: string,
  ) {}

  input(name: string, type: ElemType, shape: Dim[]): string {
    this.inputs.push(valueInfo(name, type, shape));
    return name;
  }

  output(name: string, type: ElemType, shape: Dim[]): void {
    this.outputs.push(valueInfo(name, type, shape));
  }

  /**
   * A weight stored in the external data file. Given only its byte length, it takes its place in
   * the file without data: the graph is then built to be measured, never written.
   */
  weight(name: string, type: ElemType, dims: number[], data: ArrayBufferView | number): string {
    const length = typeof data === "number" ? data : data.byteLength;
    const pad = (EXTERNAL_ALIGNMENT - (this.blob.length % EXTERNAL_ALIGNMENT)) % EXTERNAL_ALIGNMENT;
    if (pad) this.pushChunk(new Uint8Array(pad));
    const offset = this.blob.length;
    if (typeof data === "number") this.blob.length += length;
    else this.pushChunk(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    this.blob.offsets.set(name, { offset, length });
    this.initializers.push({
      name,
      dataType: ELEM[type],
      dims,
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: "location", value: this.externalFile },
        { key: "offset", value: String(offset) },
        { key: "length", value: String(length) },
      ],
    });
    return name;
  }

  /** A small constant kept inside the graph itself. */
  constant(name: string, type: ElemType, dims: number[], data: ArrayBufferView): string {
    this.initializers.push({
      name,
      dataType: ELEM[type],
      dims,
      rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice(),
    });
    return name;
  }

  /** Adds a node; returns its output names. Empty-string inputs mean "optional input omitted". */
  node(
    opType: string,
    inputs: string[],
    outputCount: number | string[],
    attrs: Record<string, AttrValue> = {},
    domain = "",
  ): string[] {
    const outputs =
      typeof outputCount === "number"
        ? Array.from({ length: outputCount }, (_, i) => `${opType}_${this.counter}_${i}`)
        : outputCount;
    this.nodes.push({
      name: `${opType}_${this.counter++}`,
      opType,
      domain,
      input: inputs,
      output: outputs,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outputs;
  }

  /** One-output convenience form of node(). */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, domain = ""): string {
    return this.node(opType, inputs, 1, attrs, domain)[0];
  }

  ms(
    opType: string,
    inputs: string[],
    attrs: Record<string, AttrValue> = {},
    outputs: number | string[] = 1,
  ): string[] {
    return this.node(opType, inputs, outputs, attrs, "com.microsoft");
  }

  /** Serialises the graph; the caller writes `model` to <name>.onnx and `weights` to the external file. */
  build(): { model: Uint8Array; weights: WeightBlob } {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: "exitlane",
      opsetImport: [
        { domain: "", version: 17 },
        { domain: "com.microsoft", version: 1 },
      ],
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return { model: onnx.ModelProto.encode(model).finish(), weights: this.blob };
  }

  private pushChunk(bytes: Uint8Array): void {
    this.blob.chunks.push(bytes);
    this.blob.length += bytes.byteLength;
  }
}

function valueInfo(name: string, type: ElemType, shape: Dim[]): P.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEM[type],
        shape: { dim: shape.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, value: AttrValue): P.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === "string") return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}: use {float: x} for non-integer values`);
    return { name, type: T.INT, i: value };
  }
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  return { name, type: T.FLOAT, f: value.float };
}
