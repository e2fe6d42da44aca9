// The kernels' arguments for a package that keeps its GGUF (convert/kept-file.ts): each layer's
// FFN and attention half and the head, laid out from the file's blocks where the file holds them.
// The kernels read those rows themselves, one call's matrices at a time, so a load holds little
// beside the laid-out weights. The norms (a few KB a layer) are read here.
import path from "node:path";
import { openModelSource } from "../formats/open-model.js";
import type { TensorName } from "../formats/model-source.js";
import { readLayer } from "../convert/convert-model.js";
import {
  attentionArguments,
  ffnArguments,
  headArguments,
  headFormBytes,
  layerFormBytes,
} from "../kernels/native-form.js";
import { headStorage, layerStorage } from "../convert/source-grid.js";
import type { AvailableNativeKernels } from "../kernels/index.js";
import type { Manifest } from "../package/manifest.js";

type Kernels = AvailableNativeKernels;

export interface KeptFileLayout {
  ffn: Parameters<Kernels["createFfn"]>[0][];
  attention: Parameters<Kernels["createAttention"]>[0][];
  head: Parameters<Kernels["createLinear"]>[0];
}

/** The arguments for every layer and the head of the package in `dir`, whose manifest keeps a GGUF. */
export async function keptFileLayout(dir: string, m: Manifest, threads: number): Promise<KeptFileLayout> {
  const kept = m.native?.kept;
  if (!kept) throw new Error(`model ${m.id} does not keep its GGUF`);
  const source = await openModelSource(path.join(dir, kept));
  try {
    const cfg = m.config;
    const bits = m.native!.bits;
    const ffn: KeptFileLayout["ffn"] = [];
    const attention: KeptFileLayout["attention"] = [];
    for (let l = 0; l < cfg.numLayers; l++) {
      const storage = layerStorage(source.tensors, l, bits, m.blockSize);
      const w = await readLayer(source, l, storage, true);
      if (!w.blocks || Object.keys(w.blocks).length !== 7)
        throw new Error(
          `${path.join(dir, kept)}: layer ${l}'s matrices are not where the package expects them`,
        );
      ffn.push({ ...ffnArguments(cfg, w, bits, m.blockSize, storage, threads), form: "dense" });
      attention.push(attentionArguments(cfg, l, w, bits, m.blockSize, storage, threads));
    }
    const headName: TensorName = cfg.tiedEmbeddings ? "embed" : "lm_head";
    const blocks = source.locateTensorBlocks?.(headName);
    if (!blocks) throw new Error(`${path.join(dir, kept)}: the LM head is not where the package expects it`);
    const head = headArguments(
      cfg,
      await source.readTensor("final_norm"),
      blocks,
      bits,
      m.blockSize,
      headStorage(source.tensors, cfg.tiedEmbeddings, bits, m.blockSize),
      threads,
    );
    return { ffn, attention, head };
  } finally {
    await source.close();
  }
}

/**
 * Bytes the kernels hold for the layers and head of a package that keeps its GGUF: what its
 * laid-out files would hold (the reference `bench` compares peak memory and bytes per token with).
 */
export async function keptFileFormBytes(dir: string, m: Manifest): Promise<number> {
  const source = await openModelSource(path.join(dir, m.native!.kept!));
  try {
    const cfg = m.config;
    const bits = m.native!.bits;
    const has = (l: number, n: string) => source.tensors.has(`layers.${l}.${n}` as TensorName);
    let total = headFormBytes(
      cfg,
      bits,
      m.blockSize,
      headStorage(source.tensors, cfg.tiedEmbeddings, bits, m.blockSize),
    );
    for (let l = 0; l < cfg.numLayers; l++) {
      const parts = { bias: has(l, "bq"), qkNorm: has(l, "q_norm"), postNorm: has(l, "post_attn_norm") };
      total += layerFormBytes(
        cfg,
        parts,
        bits,
        m.blockSize,
        layerStorage(source.tensors, l, bits, m.blockSize),
        false,
      );
    }
    return total;
  } finally {
    await source.close();
  }
}
