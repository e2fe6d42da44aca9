// Phi-3's fused matrices and partial rotary at read time, and the clear errors for Phi-3 files that
// do not add up (GGUF and Hugging Face folders).
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir } from "../test-support/temp-files.js";
import { failure } from "../test-support/format-failure.js";
import { phi3Gguf, phi3HfFolder, tinyPhi3 } from "../test-support/phi3-writer.js";
import { partialRotaryOrder } from "./fused-tensors.js";
import { openModelSource } from "./open-model.js";
import type { RopeScaling, TensorName } from "./model-source.js";

const tmp = makeTempDir("exitlane-fused-");
afterAll(() => tmp.cleanup());

const longRope = { contextLength: 512, originalContextLength: 64 };
type LongRope = Extract<RopeScaling, { type: "longrope" }>;

describe("partial rotary row order", () => {
  it("moves the rotating halves to the front of each half and keeps q·k", () => {
    // hd 8, 4 rotating: pairs (0,2) and (1,3) rotate, 4..7 do not.
    expect(partialRotaryOrder(8, 4)).toEqual([0, 1, 4, 5, 2, 3, 6, 7]);
    expect(partialRotaryOrder(8, 8)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const order = partialRotaryOrder(32, 24);
    expect([...order].sort((a, b) => a - b)).toEqual([...Array(32).keys()]);
    // New pair (i, i + 16) is the original pair (i, i + 12) for each of the 12 rotating pairs.
    for (let i = 0; i < 12; i++) expect([order[i], order[i + 16]]).toEqual([i, i + 12]);
  });
});

describe("phi3 readers", () => {
  it("serve the fused parts under canonical names, q/k reordered, v and the FFN as stored", async () => {
    const m = tinyPhi3({ partialRotary: 0.75, layers: 1 });
    const source = await openModelSource(tmp.write("parts.gguf", phi3Gguf(m)));
    try {
      const wanted = (n: string) => m.tensors.get(n as TensorName)!.data;
      expect(await source.readTensor("layers.0.wv")).toEqual(wanted("layers.0.wv"));
      expect(await source.readTensor("layers.0.w_gate")).toEqual(wanted("layers.0.w_gate"));
      expect(await source.readTensor("layers.0.w_up")).toEqual(wanted("layers.0.w_up"));
      const wk = await source.readTensor("layers.0.wk");
      const cols = m.config.hiddenSize;
      const order = partialRotaryOrder(32, 24);
      // Row j of KV head 1 is the file's row order[j] of that head.
      for (const j of [0, 12, 16, 20, 31])
        expect(wk.subarray((32 + j) * cols, (33 + j) * cols)).toEqual(
          wanted("layers.0.wk").subarray((32 + order[j]) * cols, (33 + order[j]) * cols),
        );
      expect(source.config.rotaryDim).toBe(24);
      // The file's bytes of each part come in the same row order as its values (the native
      // import lays them out without reading the values).
      for (const name of ["layers.0.wq", "layers.0.wk", "layers.0.wv", "layers.0.w_up"] as TensorName[]) {
        const raw = (await source.readTensorBlocks!(name))!;
        expect(raw.type).toBe("F32");
        const copy = raw.bytes.slice();
        expect(new Float32Array(copy.buffer)).toEqual(await source.readTensor(name));
      }
    } finally {
      await source.close();
    }
  });

  it("GGUF: a fused matrix of the wrong size and incomplete LongRoPE tensors are refused by name", async () => {
    const m = tinyPhi3({ layers: 1 });
    m.config.numKvHeads = 3; // the file's attn_qkv holds 2 KV heads
    const e = await failure(openModelSource(tmp.write("qkv.gguf", phi3Gguf(m))));
    expect(e.message).toMatch(
      /tensor blk\.0\.attn_qkv\.weight has shape \[320, 192\] but the model config implies \[384, 192\]/,
    );

    const noFfn = phi3Gguf(tinyPhi3({ layers: 1 }), { omit: ["blk.0.ffn_up.weight"] });
    const e3 = await failure(openModelSource(tmp.write("noffn.gguf", noFfn)));
    expect(e3.message).toMatch(/tensor blk\.0\.ffn_up\.weight is missing \(needed for layers\.0\.w_gate\)/);

    const short = tinyPhi3({ layers: 1, longRope });
    (short.config.ropeScaling as LongRope).shortFactor.pop();
    const e2 = await failure(openModelSource(tmp.write("short.gguf", phi3Gguf(short))));
    expect(e2.message).toMatch(/rope_factors_short\.weight has 15 values, expected 16/);
  });

  it("HF: LongRoPE from config.json ('su' too), attention factor computed or given, bad factors refused", async () => {
    const m = tinyPhi3({ layers: 1, longRope });
    const files = phi3HfFolder(m);
    const config = JSON.parse(files["config.json"] as string);
    const open = async (change: (c: typeof config) => void, name: string) => {
      const c = structuredClone(config);
      change(c);
      return openModelSource(tmp.folder(name, { ...files, "config.json": JSON.stringify(c) }));
    };
    const su = await open((c) => (c.rope_scaling.type = "su"), "su");
    const s = su.config.ropeScaling as LongRope;
    expect(s.type).toBe("longrope");
    expect(s.attentionFactor).toBeCloseTo(Math.sqrt(1 + Math.log(8) / Math.log(64)), 12);
    expect(s.originalContextLength).toBe(64);
    await su.close();
    const given = await open((c) => (c.rope_scaling.attention_factor = 1.5), "given");
    expect((given.config.ropeScaling as LongRope).attentionFactor).toBe(1.5);
    await given.close();
    const e = await failure(open((c) => c.rope_scaling.long_factor.push(1), "long"));
    expect(e.message).toMatch(/long_factor has 17 values, expected 16/);
    const e2 = await failure(
      open((c) => {
        c.architectures = ["LlamaForCausalLM"];
        c.model_type = "llama";
        c.partial_rotary_factor = 0.5;
      }, "llama-partial"),
    );
    expect(e2.message).toMatch(/partial_rotary_factor 0.5 is not supported/);
  });
});
