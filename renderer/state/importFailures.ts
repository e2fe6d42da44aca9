// What a failed import card says, picked by the error's code (wire/errors.ts) rather than read out
// of the engine's message. The engine's own words stay available as the card's detail line.
import type { ImportJob } from "../../electron/contract";
import type { ModelFormatErrorCode } from "../../wire/errors";

/** One line per reason a model file can be refused; `name` is the file or folder the user chose. */
const FORMAT_MESSAGES: Record<ModelFormatErrorCode, (name: string) => string> = {
  not_found: (name) => `Exitlane could not read ${name}: it is missing or not readable.`,
  unknown_format: (name) => `This file is not a model Exitlane can read (${name}).`,
  bad_magic: (name) => `This file is not a model Exitlane can read (${name}).`,
  unsupported_version: (name) => `${name} uses a version of its file format that Exitlane does not read yet.`,
  truncated: (name) => `The file is incomplete — was the download interrupted? (${name})`,
  bad_metadata: (name) => `${name} is damaged: its description of the model cannot be read.`,
  bad_tensor: (name) => `${name} is damaged: some of its weights are malformed.`,
  out_of_bounds: (name) => `${name} is damaged: its weights point outside the file.`,
  too_large: (name) => `${name} declares sizes no real model has; the file is probably damaged.`,
  unsupported_type: (name) => `${name} stores its weights in a format Exitlane cannot convert yet.`,
  unsupported_architecture: (name) => `This model's architecture is not supported yet (${name}).`,
  missing_tensor: (name) => `${name} lacks weights its architecture needs.`,
  bad_config: (name) => `${name} has a model configuration Exitlane does not support.`,
  bad_tokenizer: (name) => `The tokenizer of ${name} cannot be read.`,
};

/** The code-specific sentence for a failed job, or null when its code has none (then its message is shown). */
export function failureHeadline(job: ImportJob, name: string): string | null {
  if (job.errorCode === "model_format" && job.errorDetail?.formatCode)
    return FORMAT_MESSAGES[job.errorDetail.formatCode](name);
  if (job.errorCode === "already_imported")
    return `${name} is already in your library in this quantization; open that model, or import it again to have a second copy.`;
  if (job.errorCode === "engine_crashed")
    return `The engine stopped unexpectedly while importing ${name}. It has been restarted; try again.`;
  return null;
}
