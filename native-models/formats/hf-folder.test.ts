import { afterAll, describe, expect, it } from "vitest";
import { folderModelName, openHfFolder } from "./hf-folder.js";
import { haveShared, stories } from "../test-support/shared-fixtures.js";
import { makeTempDir } from "../test-support/temp-files.js";
import { failure } from "../test-support/format-failure.js";
import { hfPermute, tinyModel } from "../test-support/tiny-models.js";
import { hfConfigJson, tinyHfFolder } from "../test-support/hf-writer.js";

const tmp = makeTempDir();
afterAll(() => tmp.cleanup());

describe("openHfFolder on built folders", () => {
  it("reads a single-file llama folder; q/k stay half-split", async () => {
    const m = tinyModel({ tied: false });
    const src = await openHfFolder(tmp.folder("llama", tinyHfFolder(m)));
    expect(src.config).toEqual({ ...m.config, name: "llama", ropeInterleaved: false });
    expect(src.tokenizer.kind).toBe("hf");
    if (src.tokenizer.kind === "hf")
      expect((src.tokenizer.tokenizerConfig as { chat_template: string }).chat_template).toContain(
        "messages",
      );
    const c = m.config;
    expect(await src.readTensor("layers.0.wq")).toEqual(
      hfPermute(m.tensors.get("layers.0.wq")!.data, c.numHeads, c.headDim, c.hiddenSize),
    );
    expect(await src.readTensor("lm_head")).toEqual(m.tensors.get("lm_head")!.data);
    await src.close();
  });

  it("reads sharded qwen2 folders with biases, in F16 and BF16", async () => {
    for (const dtype of ["F16", "BF16"]) {
      const m = tinyModel({ arch: "qwen2" });
      const src = await openHfFolder(tmp.folder(`qwen-${dtype}`, tinyHfFolder(m, { dtype, shards: 3 })));
      expect(src.config.arch).toBe("qwen2");
      expect(src.config.attentionBias).toBe(true);
      expect(src.tensors.get("layers.1.bv")!.sourceType).toBe(dtype);
      const got = await src.readTensor("layers.1.bv");
      const want = m.tensors.get("layers.1.bv")!.data;
      for (let i = 0; i < want.length; i++)
        expect(Math.abs(got[i] - want[i])).toBeLessThan(dtype === "F16" ? 1e-4 : 1e-3);
      await src.close();
    }
  });

  it("maps rope_scaling, head_dim, sliding window and architecture classes", async () => {
    const m = tinyModel();
    const base = tinyHfFolder(m);
    const withCfg = (extra: Record<string, unknown>) => ({
      ...base,
      "config.json": JSON.stringify({ ...hfConfigJson(m), ...extra }),
    });
    const s1 = await openHfFolder(
      tmp.folder(
        "l3",
        withCfg({
          rope_scaling: {
            rope_type: "llama3",
            factor: 8,
            low_freq_factor: 1,
            high_freq_factor: 4,
            original_max_position_embeddings: 8192,
          },
        }),
      ),
    );
    expect(s1.config.ropeScaling).toEqual({
      type: "llama3",
      factor: 8,
      lowFreqFactor: 1,
      highFreqFactor: 4,
      originalContextLength: 8192,
    });
    const s2 = await openHfFolder(
      tmp.folder(
        "lin",
        withCfg({
          rope_scaling: { type: "linear", factor: 2 },
          head_dim: undefined,
          architectures: ["MistralForCausalLM"],
          sliding_window: 64,
        }),
      ),
    );
    expect(s2.config.ropeScaling).toEqual({ type: "linear", factor: 2 });
    expect(s2.config.headDim).toBe(8);
    // Mistral's window is modelled (sliding-window attention), no longer a cap on the context.
    expect(s2.config.contextLength).toBe(128);
    expect(s2.config.slidingWindow).toBe(64);
    const e = await failure(
      openHfFolder(tmp.folder("gem", withCfg({ architectures: ["GemmaForCausalLM"] }))),
    );
    expect(e.code).toBe("unsupported_architecture");
    expect(e.message).toContain("unsupported architecture GemmaForCausalLM");
    const e2 = await failure(
      openHfFolder(tmp.folder("yarn", withCfg({ rope_scaling: { type: "yarn", factor: 4 } }))),
    );
    expect(e2.code).toBe("bad_config");
    await Promise.all([s1.close(), s2.close()]);
  });

  it("rejects unsupported dtypes, bad offsets, missing tensors, NaN weights and path tricks", async () => {
    const m = tinyModel();
    const base = tinyHfFolder(m);
    const st = base["model.safetensors"] as Uint8Array;
    const headerLen = Number(new DataView(st.buffer, st.byteOffset).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(st.subarray(8, 8 + headerLen)));
    const rewrite = (
      f: (h: Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>) => void,
    ) => {
      const h = structuredClone(header);
      f(h);
      let json = JSON.stringify(h);
      json += " ".repeat((8 - ((8 + json.length) % 8)) % 8);
      const hb = new TextEncoder().encode(json);
      const data = st.subarray(8 + headerLen);
      const out = new Uint8Array(8 + hb.length + data.length);
      new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
      out.set(hb, 8);
      out.set(data, 8 + hb.length);
      return { ...base, "model.safetensors": out };
    };
    const q = "model.layers.0.self_attn.q_proj.weight";
    const e1 = await failure(
      openHfFolder(
        tmp.folder(
          "i8",
          rewrite((h) => {
            h[q].dtype = "I32";
          }),
        ),
      ),
    );
    expect(e1.code).toBe("unsupported_type");
    expect(e1.message).toContain("has dtype I32 (supported: F32, F16, BF16)");
    const e2 = await failure(
      openHfFolder(
        tmp.folder(
          "oob",
          rewrite((h) => {
            h[q].data_offsets[1] += 1e9;
          }),
        ),
      ),
    );
    expect(e2.code).toBe("out_of_bounds");
    const e3 = await failure(
      openHfFolder(
        tmp.folder(
          "ovl",
          rewrite((h) => {
            const k = "model.layers.0.self_attn.k_proj.weight";
            const len = h[k].data_offsets[1] - h[k].data_offsets[0];
            h[k].data_offsets = [h[q].data_offsets[0], h[q].data_offsets[0] + len];
          }),
        ),
      ),
    );
    expect(e3.message).toMatch(/overlap/);
    const e4 = await failure(
      openHfFolder(
        tmp.folder(
          "miss",
          rewrite((h) => {
            delete h["model.norm.weight"];
          }),
        ),
      ),
    );
    expect(e4.code).toBe("missing_tensor");
    expect(e4.message).toContain("model.norm.weight");

    const nanModel = tinyModel();
    nanModel.tensors.get("final_norm")!.data[0] = Infinity;
    const src = await openHfFolder(tmp.folder("nan", tinyHfFolder(nanModel, { dtype: "F16" })));
    expect((await failure(src.readTensor("final_norm"))).code).toBe("bad_tensor");
    await src.close();

    const sharded = tinyHfFolder(m, { shards: 2 });
    const idx = JSON.parse(sharded["model.safetensors.index.json"] as string);
    idx.weight_map["model.norm.weight"] = "../../etc/passwd.safetensors";
    const e5 = await failure(
      openHfFolder(tmp.folder("trav", { ...sharded, "model.safetensors.index.json": JSON.stringify(idx) })),
    );
    expect(e5.code).toBe("bad_metadata");

    const e6 = await failure(
      openHfFolder(
        tmp.folder("deep", { ...base, "tokenizer.json": "[".repeat(100000) + "]".repeat(100000) }),
      ),
    );
    expect(e6.code).toBe("bad_tokenizer");
    expect(e6.message).toContain("nests more than 64 levels");

    const e7 = await failure(
      openHfFolder(tmp.folder("pt", { "config.json": base["config.json"], "pytorch_model.bin": "x" })),
    );
    expect(e7.code).toBe("unknown_format");
  });
});

describe.skipIf(!haveShared("models/stories260K"))("openHfFolder on stories260K", () => {
  it("reads the documented config and tokenizer", async () => {
    const src = await openHfFolder(stories.hf);
    expect(src.config).toMatchObject({
      arch: "llama",
      hiddenSize: 64,
      intermediateSize: 172,
      numLayers: 5,
      numHeads: 8,
      numKvHeads: 4,
      headDim: 8,
      vocabSize: 512,
      contextLength: 512,
      rmsNormEps: 1e-5,
      ropeTheta: 10000,
      ropeInterleaved: false,
      tiedEmbeddings: true,
    });
    expect(src.tokenizer.kind).toBe("hf");
    expect(src.tensors.has("lm_head")).toBe(false);
    await src.close();
  });
});

describe("folderModelName", () => {
  it("prefers the saved name, then a telling folder name, then what the config describes", () => {
    expect(folderModelName({ _name_or_path: "Qwen/Qwen2.5-0.5B-Instruct" }, "hf")).toBe(
      "Qwen2.5-0.5B-Instruct",
    );
    expect(folderModelName({ _name_or_path: "" }, "my-llama")).toBe("my-llama");
    expect(folderModelName({ model_type: "llama", num_hidden_layers: 5, hidden_size: 64 }, "hf")).toBe(
      "llama 5 layers × 64",
    );
    expect(folderModelName({}, "0123456789abcdef0123456789abcdef01234567")).toBe("model ? layers × ?");
  });
});
