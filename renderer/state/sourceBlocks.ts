import { keepsSourceForm, type Quant, type SourceBlocks } from "../../electron/contract";

const FLOAT_TYPES = new Set(["F32", "F16", "BF16"]);

/**
 * What a package holds of its source file's weights, in one line: the file's own values, some of
 * them, or a rounding of them (and which block types were rounded). `blocks` absent: a package
 * from before this was recorded, which rounded every matrix again at import.
 */
export function describeSourceBlocks(blocks: SourceBlocks | undefined, quant: Quant): string {
  if (!blocks)
    return "Rounded again at import (made before Exitlane kept a file's own blocks): import the file again to run its exact values";
  const types = blocks.types.join(", ");
  if (!keepsSourceForm(blocks) && !blocks.types.every((t) => FLOAT_TYPES.has(t)))
    return blocks.form === 2 && blocks.types.some((t) => t === "Q5_K" || t === "Q6_K")
      ? `Made by an earlier Exitlane, whose form of the file's ${types} blocks this version no longer reads: import the file again`
      : `Made by an earlier Exitlane, which rounded some of the file's ${types} blocks again: import the file again to run its exact values`;
  if (blocks.of > 0 && blocks.kept === blocks.of) return `The file's own values (${types})`;
  if (blocks.types.every((t) => FLOAT_TYPES.has(t))) return `Quantized from ${types} to ${quant}`;
  if (blocks.kept === 0) return `The file's ${types} blocks rounded again to ${quant}`;
  return `The file's own values in ${blocks.kept} of ${blocks.of} matrices; the rest rounded again to ${quant} (file: ${types})`;
}
