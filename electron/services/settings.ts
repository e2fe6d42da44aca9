// User settings: one JSON file in the user-data folder, validated against the contract on every
// read and write. A damaged or hand-edited file never stops the app: each invalid field falls back
// to its default (and the reason is logged), and writes are atomic (temp file + rename).
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Settings } from "../contract.js";
import { ChannelError } from "./errors.js";

export const DEFAULT_SAMPLING: Settings["defaultSampling"] = {
  temperature: 0.7,
  topP: 0.9,
  topK: 40,
  minP: 0.05,
  repetitionPenalty: 1.1,
  // Automatic: a quarter of the loaded model's context, at most 1024 (contract's defaultMaxTokens).
  maxTokens: null,
  seed: null,
};

export function defaultSettings(userDataDir: string): Settings {
  return {
    // Leave a core for the UI; more than 8 threads rarely helps small models on CPU.
    threads: Math.max(1, Math.min(8, os.availableParallelism() - 1)),
    executionProvider: "cpu",
    contextLength: 2048,
    modelsDir: path.join(userDataDir, "models"),
    theme: "system",
    defaultSampling: DEFAULT_SAMPLING,
    knob: 0.3,
    activeModelId: null,
    // 1234, like LM Studio's, so clients set up for a local server find it.
    server: { enabled: false, port: 1234 },
  };
}

export class SettingsStore {
  private readonly file: string;
  private readonly defaults: Settings;
  private current: Settings;

  constructor(userDataDir: string) {
    this.file = path.join(userDataDir, "settings.json");
    this.defaults = defaultSettings(userDataDir);
    this.current = this.load();
  }

  get(): Settings {
    return structuredClone(this.current);
  }

  /** Applies a partial change; the whole result must be valid, or nothing changes. */
  set(change: Partial<Settings>): Settings {
    const next = Settings.safeParse({ ...this.current, ...change });
    if (!next.success)
      throw new ChannelError(
        "bad_request",
        `Invalid settings: ${next.error.issues.map((i) => i.message).join("; ")}`,
      );
    this.current = next.data;
    this.save();
    return this.get();
  }

  private load(): Settings {
    let stored: Record<string, unknown>;
    try {
      stored = JSON.parse(readFileSync(this.file, "utf8")) as Record<string, unknown>;
      if (!stored || typeof stored !== "object" || Array.isArray(stored))
        throw new Error("not a JSON object");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT")
        console.warn(`[settings] ignoring ${this.file}: ${(error as Error).message}`);
      return structuredClone(this.defaults);
    }
    const merged: Record<string, unknown> = structuredClone(this.defaults);
    const fields = Settings.shape;
    for (const key of Object.keys(fields) as Array<keyof Settings>) {
      if (!(key in stored)) continue;
      const field = fields[key].safeParse(stored[key]);
      if (field.success) merged[key] = field.data;
      else console.warn(`[settings] "${key}" in ${this.file} is invalid; using the default.`);
    }
    return Settings.parse(merged);
  }

  private save(): void {
    mkdirSync(path.dirname(this.file), { recursive: true });
    const temp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temp, `${JSON.stringify(this.current, null, 2)}\n`);
    renameSync(temp, this.file);
  }
}
