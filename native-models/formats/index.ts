// The formats package: everything a caller needs to turn a user's path into a ModelSource.
export { ModelFormatError, type ModelFormatErrorCode } from "./errors.js";
export type * from "./model-source.js";
export { SUPPORTED_ARCHITECTURES } from "./model-source.js";
export { openModelSource, detectModelFormat, type OpenOptions, type ModelFormat } from "./open-model.js";
export { readGgufMetadata, openGguf } from "./gguf.js";
export { openHfFolder } from "./hf-folder.js";
export { openLlama2c, readLlama2cTokenizer } from "./llama2c.js";
export { dequantizeInto, DEQUANT_TYPES } from "./gguf-dequant.js";
