// ggml tensor types as they appear in GGUF tensor infos (ggml.h `enum ggml_type`, type_traits in ggml.c).
// Every type ggml knows is listed with its block size and bytes per block, so a file's layout can be
// validated even when it holds tensors we cannot dequantize (gguf-dequant.ts lists those we can).

export interface GgmlType {
  id: number;
  name: string;
  /** Elements per block. */
  blockSize: number;
  /** Bytes per block. */
  typeSize: number;
}

const table: [number, string, number, number][] = [
  [0, "F32", 1, 4],
  [1, "F16", 1, 2],
  [2, "Q4_0", 32, 18],
  [3, "Q4_1", 32, 20],
  [6, "Q5_0", 32, 22],
  [7, "Q5_1", 32, 24],
  [8, "Q8_0", 32, 34],
  [9, "Q8_1", 32, 36],
  [10, "Q2_K", 256, 84],
  [11, "Q3_K", 256, 110],
  [12, "Q4_K", 256, 144],
  [13, "Q5_K", 256, 176],
  [14, "Q6_K", 256, 210],
  [15, "Q8_K", 256, 292],
  [16, "IQ2_XXS", 256, 66],
  [17, "IQ2_XS", 256, 74],
  [18, "IQ3_XXS", 256, 98],
  [19, "IQ1_S", 256, 50],
  [20, "IQ4_NL", 32, 18],
  [21, "IQ3_S", 256, 110],
  [22, "IQ2_S", 256, 82],
  [23, "IQ4_XS", 256, 136],
  [24, "I8", 1, 1],
  [25, "I16", 1, 2],
  [26, "I32", 1, 4],
  [27, "I64", 1, 8],
  [28, "F64", 1, 8],
  [29, "IQ1_M", 256, 56],
  [30, "BF16", 1, 2],
  [34, "TQ1_0", 256, 54],
  [35, "TQ2_0", 256, 66],
  [39, "MXFP4", 32, 17],
];

export const GGML_TYPES: ReadonlyMap<number, GgmlType> = new Map(
  table.map(([id, name, blockSize, typeSize]) => [id, { id, name, blockSize, typeSize }]),
);

/** Names for ids ggml once used and removed, so an error can still say what the file holds. */
const REMOVED: Record<number, string> = {
  4: "Q4_2 (removed from ggml)",
  5: "Q4_3 (removed from ggml)",
  31: "Q4_0_4_4 (removed from ggml)",
  32: "Q4_0_4_8 (removed from ggml)",
  33: "Q4_0_8_8 (removed from ggml)",
  36: "IQ4_NL_4_4 (removed from ggml)",
  37: "IQ4_NL_4_8 (removed from ggml)",
  38: "IQ4_NL_8_8 (removed from ggml)",
};

export function ggmlTypeName(id: number): string {
  return GGML_TYPES.get(id)?.name ?? REMOVED[id] ?? `unknown ggml type id ${id}`;
}
