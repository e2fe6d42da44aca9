import { stat, readFile, access } from "node:fs/promises";
import path from "node:path";
import { readGgufMetadata } from "../formats/gguf.js";
import { openModelSource } from "../formats/open-model.js";
import { buildTokenizerJson } from "../tokenizer/build.js";
import { TextTokenizer } from "../tokenizer/text-tokenizer.js";
import { parse, printJson, UsageError } from "./args.js";

export async function tokenizeCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, {
    text: { type: "string" },
    json: { type: "boolean" },
    tokenizer: { type: "string" },
  });
  if (positionals.length !== 1 || values.text === undefined)
    throw new UsageError("usage: tokenize <gguf-file-or-model-folder> --text <string>");
  const tokenizer = await tokenizerFor(positionals[0], values.tokenizer);
  const ids = tokenizer.encode(values.text, { addBos: false, addEos: false });
  if (values.json) printJson({ ids });
  else process.stdout.write(`${ids.join(" ")}\n`);
}

/** A GGUF file (vocabulary-only ones too), an imported package folder, or any readable model. */
async function tokenizerFor(input: string, tokenizerPath?: string): Promise<TextTokenizer> {
  const info = await stat(input).catch(() => null);
  if (!info) throw new UsageError(`no such file or folder: ${input}`);
  if (info.isDirectory() && (await exists(path.join(input, "manifest.json")))) {
    const read = (f: string) => readFile(path.join(input, f), "utf8").then(JSON.parse);
    return new TextTokenizer(await read("tokenizer.json"), await read("tokenizer_config.json"));
  }
  if (info.isFile() && (await isGguf(input))) {
    return TextTokenizer.fromBuilt(
      buildTokenizerJson({ kind: "gguf", metadata: await readGgufMetadata(input) }),
    );
  }
  const source = await openModelSource(input, { tokenizerPath });
  try {
    return TextTokenizer.fromBuilt(buildTokenizerJson(source.tokenizer));
  } finally {
    await source.close();
  }
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

async function isGguf(file: string): Promise<boolean> {
  const fh = await import("node:fs/promises").then((fs) => fs.open(file, "r"));
  try {
    const buf = Buffer.alloc(4);
    await fh.read(buf, 0, 4, 0);
    return buf.toString("latin1") === "GGUF";
  } finally {
    await fh.close();
  }
}
