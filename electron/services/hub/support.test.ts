// What the app tells a user before a download: the quantization a file name names and whether the
// engine's GGUF reader dequantizes it, the architectures it runs, and the catalog held to the same
// check hub.listRepo applies.
import { describe, expect, it } from "vitest";
import { CatalogEntry } from "../../contract.js";
import { DEQUANT_TYPES } from "../../../native-models/formats/gguf-dequant.js";
import { CATALOG } from "./catalog.js";
import { parseRepoRef } from "./repo-id.js";
import { archProblem, engineArch, quantOfFileName, quantProblem, supportProblem } from "./support.js";

describe("quantization from file names", () => {
  it.each([
    ["tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf", "Q4_K_M"],
    ["qwen2.5-0.5b-instruct-q8_0.gguf", "Q8_0"],
    ["Llama-3.2-1B-Instruct-Q6_K_L.gguf", "Q6_K_L"],
    ["Llama-3.2-1B-Instruct-IQ4_XS.gguf", "IQ4_XS"],
    ["model-f16.gguf", "F16"],
    ["model.BF16.gguf", "BF16"],
    ["sub/dir/model-Q4_0_4_4.gguf", "Q4_0_4_4"],
    ["model-fp16.gguf", "F16"],
    ["stories260K-f32.gguf", "F32"],
    ["mystery.gguf", null],
  ])("%s → %s", (file, label) => expect(quantOfFileName(file)).toBe(label));

  it("accepts exactly the labels whose tensor types the engine's reader dequantizes", () => {
    for (const ok of ["Q4_K_M", "Q4_K_S", "Q5_K_M", "Q6_K", "Q8_0", "Q4_0", "Q5_1", "F16", "BF16", "F32"]) {
      expect(quantProblem(`m-${ok}.gguf`), ok).toBeNull();
      expect(DEQUANT_TYPES).toContain(ok.replace(/_[SML]$/, ""));
    }
    for (const bad of ["Q3_K_M", "Q2_K", "IQ4_XS", "IQ2_XXS", "IQ4_NL", "Q4_0_4_4", "TQ1_0"]) {
      expect(quantProblem(`m-${bad}.gguf`), bad).toMatch(new RegExp(`^${bad} quantization is not supported`));
    }
    expect(quantProblem("mystery.gguf")).toBeNull(); // The import reads the tensor types and says.
  });

  it("knows the engine's architectures by the names the hub uses", () => {
    expect(engineArch("llama")).toBe("llama");
    expect(engineArch("Qwen2ForCausalLM")).toBe("qwen2");
    expect(engineArch("mistral")).toBe("llama");
    expect(engineArch("gemma2")).toBeNull();
    expect(engineArch("Phi3ForCausalLM")).toBe("phi3");
    expect(archProblem("phi3")).toBeNull();
    expect(archProblem("mamba")).toMatch(
      /mamba architecture is not supported \(supported: llama, qwen2, qwen3, gemma3, phi3\)/,
    );
    expect(archProblem(null)).toBeNull();
    expect(supportProblem("gemma2", "gemma-Q8_0.gguf")).toMatch(/gemma2/);
  });
});

describe("the catalog", () => {
  it("lists only files the engine can run, with sane figures", () => {
    expect(CATALOG.length).toBeGreaterThanOrEqual(6);
    expect(new Set(CATALOG.map((e) => e.id)).size).toBe(CATALOG.length);
    for (const entry of CATALOG) {
      expect(() => CatalogEntry.parse(entry)).not.toThrow();
      expect(parseRepoRef(entry.repo)).toEqual({ repo: entry.repo });
      expect(quantOfFileName(entry.file), entry.file).not.toBeNull();
      expect(supportProblem(entry.arch, entry.file), entry.file).toBeNull();
      expect(entry.file.endsWith(".gguf")).toBe(true);
      expect(entry.ramBytes).toBeGreaterThan(entry.sizeBytes / 2);
      expect(entry.params).toBeGreaterThan(1e8);
    }
  });
});
