// Whether the engine can run a hub repo's GGUF file, judged before downloading it: its
// architecture against the engine's SUPPORTED_ARCHITECTURES and the quantization its file name
// names (Q4_K_M, Q8_0, F16, …) against the ggml types the engine's GGUF reader dequantizes. The
// file's own tensor types decide for certain at import; this only saves a pointless download.
import { DEQUANT_TYPES } from "../../../native-models/formats/gguf-dequant.js";
import { SUPPORTED_ARCHITECTURES } from "../../../native-models/formats/model-source.js";

/** Quantization labels as llama.cpp's quantize tool writes them into file names. */
const QUANT_IN_NAME =
  /(?:^|[-._])(I?Q\d_[A-Z0-9]+(?:_[SML]|_XXS|_XS|_NL)?|I?Q\d_\d|BF16|F16|F32|FP16)(?=[-._]|$)/i;

/** The quantization label a file name carries (upper case), or null when it names none. */
export function quantOfFileName(file: string): string | null {
  const base = file
    .split("/")
    .pop()!
    .replace(/\.gguf$/i, "");
  const m = QUANT_IN_NAME.exec(base);
  return m ? m[1]!.toUpperCase().replace(/^FP16$/, "F16") : null;
}

/**
 * The ggml type that holds most of a file of this label: "Q4_K_M" → Q4_K (its mixes add Q5_K
 * and Q6_K, which the reader dequantizes too; Q3_K and Q2_K mixes hold types it does not).
 */
function mainType(label: string): string {
  return label.replace(/_(S|M|L)$/, "");
}

export function quantProblem(file: string): string | null {
  const label = quantOfFileName(file);
  if (!label) return null; // Unnamed: the import reads the tensor types and says.
  if (DEQUANT_TYPES.includes(mainType(label))) return null;
  return `${label} quantization is not supported (the engine reads ${DEQUANT_TYPES.join(", ")}; K-quants Q4_K_*, Q5_K_*, Q6_K included)`;
}

/** Names the hub's metadata uses for an architecture → the engine's name, where it supports it. */
export function engineArch(name: string): string | null {
  const n = name.toLowerCase().replace(/forcausallm$/, "");
  const mapped = n === "mistral" ? "llama" : n;
  return (SUPPORTED_ARCHITECTURES as readonly string[]).includes(mapped) ? mapped : null;
}

export function archProblem(arch: string | null): string | null {
  if (arch === null || engineArch(arch)) return null;
  return `the ${arch} architecture is not supported (supported: ${SUPPORTED_ARCHITECTURES.join(", ")})`;
}

/** Why a file of a repo with this architecture cannot run here, or null when it can (as far as can be told). */
export function supportProblem(arch: string | null, file: string): string | null {
  return archProblem(arch) ?? quantProblem(file);
}
