import { describe, expect, it } from "vitest";
import { relativePathOf } from "../api/relativePaths";
import { collectDropGroups, dragHasFiles, groupsFromFolderInput, type EntryLike } from "./dropFiles";

function fileEntry(name: string, fullPath: string) {
  const file = new File([name], name);
  return { isFile: true, isDirectory: false, name, fullPath, file: (ok: (f: File) => void) => ok(file) };
}
function dirEntry(name: string, children: EntryLike[], batch = 2) {
  return {
    isFile: false,
    isDirectory: true,
    name,
    fullPath: `/${name}`,
    createReader() {
      let i = 0;
      // readEntries returns a few entries per call, then an empty array (as browsers do)
      return {
        readEntries(ok: (e: EntryLike[]) => void) {
          const next = children.slice(i, i + batch);
          i += batch;
          setTimeout(() => ok(next), 0);
        },
      };
    },
  };
}

describe("drop handling", () => {
  it("recognises file drags", () => {
    expect(dragHasFiles({ types: ["Files"] })).toBe(true);
    expect(dragHasFiles({ types: ["text/plain"] })).toBe(false);
    expect(dragHasFiles(null)).toBe(false);
  });

  it("makes one import per dropped file and one per dropped folder (every file, paths kept)", async () => {
    const gguf = new File(["g"], "stories260K.gguf");
    const folder = dirEntry("tiny-hf", [
      fileEntry("config.json", "/tiny-hf/config.json"),
      fileEntry(".DS_Store", "/tiny-hf/.DS_Store"),
      fileEntry("tokenizer.json", "/tiny-hf/tokenizer.json"),
      fileEntry("model.safetensors", "/tiny-hf/model.safetensors"),
      dirEntry("sub", [fileEntry("extra.json", "/tiny-hf/sub/extra.json")]),
    ]);
    const items = [
      {
        kind: "file",
        getAsFile: () => gguf,
        webkitGetAsEntry: () => ({ isFile: true, isDirectory: false, name: gguf.name }),
      },
      { kind: "file", getAsFile: () => null, webkitGetAsEntry: () => folder },
      { kind: "string", getAsFile: () => null },
    ];
    const groups = await collectDropGroups({ items, types: ["Files"] });
    expect(groups.map((g) => g.label)).toEqual(["stories260K.gguf", "tiny-hf"]);
    expect(groups[0].files[0]).toBe(gguf);
    expect(groups[1].files.map((f) => f.name)).toEqual([
      "config.json",
      "tokenizer.json",
      "model.safetensors",
      "extra.json",
    ]);
    expect(groups[1].files.map(relativePathOf)).toEqual([
      "tiny-hf/config.json",
      "tiny-hf/tokenizer.json",
      "tiny-hf/model.safetensors",
      "tiny-hf/sub/extra.json",
    ]);
  });

  it("falls back to plain files when entries are unavailable (synthetic DataTransfer)", async () => {
    const a = new File(["a"], "a.gguf");
    const groups = await collectDropGroups({
      items: [{ kind: "file", getAsFile: () => a, webkitGetAsEntry: () => null }],
      files: [a],
    });
    expect(groups).toEqual([{ label: "a.gguf", files: [a] }]);
  });

  it("groups a folder input by its top folder", () => {
    const mk = (path: string) => {
      const f = new File(["x"], path.split("/").pop()!);
      Object.defineProperty(f, "webkitRelativePath", { value: path });
      return f;
    };
    const groups = groupsFromFolderInput([
      mk("hf/config.json"),
      mk("hf/model.safetensors"),
      mk("hf/.hidden"),
    ]);
    expect(groups).toHaveLength(1);
    expect(groups[0].label).toBe("hf");
    expect(groups[0].files).toHaveLength(2);
    expect(relativePathOf(groups[0].files[0])).toBe("hf/config.json");
  });
});
