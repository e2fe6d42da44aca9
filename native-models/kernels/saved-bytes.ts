// Sizes of the files the native kernels' save() writes, from shapes alone, so an import can say how
// big a package will be before it quantizes anything. The layouts themselves live in addon/src
// (layout.h makeLayout, packed.cc makePackedLayout, the headers in ffn_file.cc, attention.cc and
// matrix.cc); saved-bytes.test.ts checks these numbers against real save() output, so a layout
// change there fails here.
import type { SparseBits, SparseBlockSize } from "./types.js";
import type { LayerStorage, MatrixStorage } from "../convert/source-grid.js";

const FFN_HEADER = 64;
const MATRIX_HEADER = 64;
const ATTENTION_HEADER = 128;
/** Linear: the 64-byte header, then the int64 lengths of its norm and bias. */
const LINEAR_HEADER = 64 + 16;
/** Packed matrices hold output rows in groups of 16 (packed.h kPackRows). */
const PACK_ROWS = 16;

const align64 = (n: number) => Math.ceil(n / 64) * 64;

/** An input row padded to a multiple of max(block, 64) inputs, and its blocks (makeLayout). */
function paddedInputs(k: number, block: SparseBlockSize): { dp: number; kb: number } {
  const unit = Math.max(block, 64);
  const dp = Math.ceil(k / unit) * unit;
  return { dp, kb: dp / block };
}

/**
 * One packed matrix in a file: its header and its groups of 16 rows (makePackedLayout): codes at
 * the storage's bits (5 for Q5_0, Q5_1, Q5_K), fp16 scales, and zero points for int4 unless it is
 * a kept grid (the mins form, a kept Q4_1 or Q5_1 matrix: an fp16 min per block in their place);
 * a kept Q4_K or Q5_K matrix has a 6-bit scale and min per block and fp16 d and dmin per 8
 * blocks instead, a K6 one (Q6_K, stacks of K types) 6-bit codes, an int8 scale per 16 inputs,
 * fp16 d per 8 blocks and, where its blocks have mins, a min per 32 and fp16 dmin per 8 blocks;
 * a banded one, each band as a matrix. `storage` may widen the bits.
 */
export function matrixFileBytes(
  n: number,
  k: number,
  bits: SparseBits,
  block: SparseBlockSize,
  storage?: MatrixStorage,
): number {
  // Bands: a header, then each band as a matrix of its own.
  if (storage?.bands)
    return storage.bands.reduce(
      (t, band) => t + matrixFileBytes(band.rows, k, bits, block, band.storage),
      MATRIX_HEADER,
    );
  const b = storage?.bits ?? bits;
  const { kb } = paddedInputs(k, block);
  const form = storage?.form;
  const codes = ((block * PACK_ROWS * (form === "k6" ? 6 : b)) / 8) * kb;
  const mins = storage?.mins ? 1 : 0;
  const group =
    form === "q4k" || form === "q5k"
      ? codes + 2 * ((kb * PACK_ROWS * 3) / 4) + (kb / 8) * PACK_ROWS * 4
      : form === "k6"
        ? codes + (2 + mins) * kb * PACK_ROWS + (kb / 8) * PACK_ROWS * 2 * (1 + mins)
        : form === "mins"
          ? codes + kb * PACK_ROWS * 4
          : codes + kb * PACK_ROWS * 2 + (b === 4 && form !== "grid" ? kb * PACK_ROWS : 0);
  return MATRIX_HEADER + Math.ceil(n / PACK_ROWS) * align64(group);
}

/** The per-neuron-row form of an FFN (SparseFfn.save): 3 rows of d per neuron, fp16 block scales. */
export function ffnRowsFileBytes(d: number, ffn: number, bits: SparseBits, block: SparseBlockSize): number {
  const { dp, kb } = paddedInputs(d, block);
  const rowBytes = align64((dp * bits) / 8 + 2 * kb + (bits === 4 ? kb : 0));
  return FFN_HEADER + 3 * ffn * rowBytes;
}

/** The packed dense form of an FFN (form "dense"): gate, up and down as packed matrices. */
export function ffnDenseFileBytes(
  d: number,
  ffn: number,
  bits: SparseBits,
  block: SparseBlockSize,
  storage: LayerStorage = {},
): number {
  return (
    FFN_HEADER +
    matrixFileBytes(ffn, d, bits, block, storage.gate) +
    matrixFileBytes(ffn, d, bits, block, storage.up) +
    matrixFileBytes(d, ffn, bits, block, storage.down)
  );
}

export interface AttentionShape {
  d: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  bias: boolean;
  qkNorm: boolean;
  postNorm: boolean;
}

/** A layer's attention half (NativeAttention.save): header, norms (and bias), W_qkv and W_o. */
export function attentionFileBytes(
  a: AttentionShape,
  bits: SparseBits,
  block: SparseBlockSize,
  storage: LayerStorage = {},
): number {
  const qkv = (a.heads + 2 * a.kvHeads) * a.headDim;
  const floats = 2 * a.d + (a.bias ? qkv : 0) + (a.qkNorm ? 2 * a.headDim : 0) + (a.postNorm ? a.d : 0);
  return (
    ATTENTION_HEADER +
    4 * floats +
    matrixFileBytes(qkv, a.d, bits, block, storage.qkv) +
    matrixFileBytes(a.d, a.heads * a.headDim, bits, block, storage.o)
  );
}

/** A linear layer (NativeLinear.save): header, its norm and bias when it has them, the matrix. */
export function linearFileBytes(
  outputs: number,
  inputs: number,
  bits: SparseBits,
  block: SparseBlockSize,
  has: { norm: boolean; bias: boolean },
  storage?: MatrixStorage,
): number {
  const floats = (has.norm ? inputs : 0) + (has.bias ? outputs : 0);
  return LINEAR_HEADER + 4 * floats + matrixFileBytes(outputs, inputs, bits, block, storage);
}
