// Helpers the download tests share: the hub stand-in's test repos (real shared models), a download
// started and followed to its end through a real back end, what the library and the downloads
// folder hold, and a chat answer from a model (the proof an import worked).
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { expect } from "vitest";
import type { DownloadJob, ModelSummary } from "../contract.js";
import { kjv16, stories } from "../../native-models/test-support/shared-fixtures.js";
import type { HubRepo } from "./hub-server.js";
import type { RealBackend } from "./real-backend.js";

export const STORIES_FILE = "stories260K-q8_0.gguf";
export const KJV_FILE = "kjv16-q8_0.gguf";

export const testRepos = (): Record<string, HubRepo> => ({
  "test/stories-GGUF": {
    files: [{ path: STORIES_FILE, source: stories.ggufQ8 }],
    architecture: "llama",
    license: "mit",
  },
  "test/kjv16-GGUF": { files: [{ path: KJV_FILE, source: kjv16.ggufQ8 }], architecture: "llama" },
  "test/gated-GGUF": {
    files: [{ path: STORIES_FILE, source: stories.ggufQ8 }],
    architecture: "llama",
    gated: true,
  },
  "test/mamba-GGUF": {
    files: [{ path: "mamba-130m-Q4_K_M.gguf", source: stories.ggufQ8 }],
    architecture: "mamba",
  },
});

const ENDED = new Set(["done", "failed", "cancelled"]);

/** Starts a download and waits for it to end (one download at a time per back end). */
export async function download(
  b: RealBackend,
  repo: string,
  file: string,
  ms = 120_000,
): Promise<DownloadJob> {
  const end = b.next("download.progress", (p) => ENDED.has(p.state), ms);
  await b.call("downloads.start", { repo, file });
  return end;
}

/** Every download.progress event of a job, in order. */
export const progressOf = (b: RealBackend, jobId: string) =>
  b.seen
    .filter((e) => e.event === "download.progress" && (e.payload as DownloadJob).jobId === jobId)
    .map((e) => e.payload as DownloadJob);

/** Files left under the downloads folder (beside the models folder), recursively. */
export function downloadsLeft(b: RealBackend): string[] {
  const dir = path.join(b.userDataDir, "downloads");
  return existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String) : [];
}

/** The library and the models folder are empty: nothing of a failed or cancelled download got in. */
export async function expectNothingLeft(b: RealBackend): Promise<void> {
  await b.backend.services.downloads.idle();
  await b.backend.services.imports.idle();
  expect(await b.call<ModelSummary[]>("models.list", {})).toEqual([]);
  expect(existsSync(b.modelsDir) ? readdirSync(b.modelsDir) : []).toEqual([]);
  expect(downloadsLeft(b)).toEqual([]);
}

/** Selects the model and has it answer; returns the number of tokens it generated. */
export async function answerTokens(b: RealBackend, modelId: string): Promise<number> {
  await b.call("models.select", { id: modelId });
  const chat = await b.call<{ id: string }>("chat.create", {});
  const done = b.next("generation.done", () => true, 120_000);
  await b.call("chat.send", { conversationId: chat.id, text: "In the beginning" });
  return (await done).stats.tokens;
}
