// The curated catalog: small chat models that run well on a laptop, each pinned to one public GGUF
// file in a quantization the engine reads (catalog.test.ts checks every entry with the same check
// hub.listRepo uses). Sizes are the files' published sizes, for display before a download; the
// download itself takes the real size and SHA-256 from the hub's tree listing. ramBytes is a rough
// figure for the imported model (int4) at its usual context, with the app's own overhead.
import type { CatalogEntry } from "../../contract.js";

const MB = 1_000_000;
const GB = 1_000_000_000;

export const CATALOG: readonly CatalogEntry[] = [
  {
    id: "smollm2-360m-instruct",
    name: "SmolLM2 360M Instruct",
    repo: "HuggingFaceTB/SmolLM2-360M-Instruct-GGUF",
    file: "smollm2-360m-instruct-q8_0.gguf",
    sizeBytes: 386 * MB,
    ramBytes: 0.6 * GB,
    params: 362 * MB,
    arch: "llama",
    licence: "apache-2.0",
    goodFor: "Very fast short answers and simple rewording on any machine; little world knowledge.",
  },
  {
    id: "qwen2.5-0.5b-instruct",
    name: "Qwen2.5 0.5B Instruct",
    repo: "Qwen/Qwen2.5-0.5B-Instruct-GGUF",
    file: "qwen2.5-0.5b-instruct-q8_0.gguf",
    sizeBytes: 676 * MB,
    ramBytes: 0.9 * GB,
    params: 494 * MB,
    arch: "qwen2",
    licence: "apache-2.0",
    goodFor: "Quick multilingual chat and simple instructions on modest hardware.",
  },
  {
    id: "tinyllama-1.1b-chat",
    name: "TinyLlama 1.1B Chat",
    repo: "TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF",
    file: "tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf",
    sizeBytes: 669 * MB,
    ramBytes: 1.2 * GB,
    params: 1100 * MB,
    arch: "llama",
    licence: "apache-2.0",
    goodFor: "Casual English chat and trying the app out; a classic small Llama.",
  },
  {
    id: "llama-3.2-1b-instruct",
    name: "Llama 3.2 1B Instruct",
    repo: "bartowski/Llama-3.2-1B-Instruct-GGUF",
    file: "Llama-3.2-1B-Instruct-Q4_K_M.gguf",
    sizeBytes: 808 * MB,
    ramBytes: 1.5 * GB,
    params: 1236 * MB,
    arch: "llama",
    licence: "llama3.2",
    goodFor: "Summaries, short writing help and instruction following, with a long context.",
  },
  {
    id: "qwen2.5-1.5b-instruct",
    name: "Qwen2.5 1.5B Instruct",
    repo: "Qwen/Qwen2.5-1.5B-Instruct-GGUF",
    file: "qwen2.5-1.5b-instruct-q4_k_m.gguf",
    sizeBytes: 1120 * MB,
    ramBytes: 2 * GB,
    params: 1544 * MB,
    arch: "qwen2",
    licence: "apache-2.0",
    goodFor: "The best all-rounder here: reasoning, coding help and many languages.",
  },
  {
    id: "smollm2-1.7b-instruct",
    name: "SmolLM2 1.7B Instruct",
    repo: "HuggingFaceTB/SmolLM2-1.7B-Instruct-GGUF",
    file: "smollm2-1.7b-instruct-q4_k_m.gguf",
    sizeBytes: 1060 * MB,
    ramBytes: 2 * GB,
    params: 1711 * MB,
    arch: "llama",
    licence: "apache-2.0",
    goodFor: "Good English writing and everyday questions for its size.",
  },
];
