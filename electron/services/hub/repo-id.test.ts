// Repo ids and hub URLs as users paste them: what is accepted, and that anything else is refused
// with a bad_request saying what to give instead.
import { describe, expect, it } from "vitest";
import { checkRepoFile, parseRepoRef } from "./repo-id.js";

describe("parseRepoRef", () => {
  it.each([
    ["Qwen/Qwen2.5-0.5B-Instruct-GGUF", { repo: "Qwen/Qwen2.5-0.5B-Instruct-GGUF" }],
    ["  owner/name  ", { repo: "owner/name" }],
    ["https://huggingface.co/owner/name", { repo: "owner/name" }],
    ["https://huggingface.co/owner/name/", { repo: "owner/name" }],
    ["https://huggingface.co/owner/name/tree/main", { repo: "owner/name" }],
    ["https://huggingface.co/owner/name/blob/main/m-Q8_0.gguf", { repo: "owner/name", file: "m-Q8_0.gguf" }],
    [
      "https://www.huggingface.co/owner/name/resolve/main/sub/m.gguf",
      { repo: "owner/name", file: "sub/m.gguf" },
    ],
  ])("%s", (input, expected) => expect(parseRepoRef(input)).toEqual(expected));

  it.each([
    "owner",
    "owner/name/extra",
    "/name",
    "owner/../x",
    "https://example.com/owner/name",
    "https://huggingface.co/owner",
    "https://huggingface.co/owner/name/tree/dev",
    "https://huggingface.co/owner/name/blob/main",
    "https://huggingface.co/owner/name?x=1",
    "https://huggingface.co/owner/name/blob/main/../secret",
    "owner/na me",
  ])("refuses %s", (input) =>
    expect(() => parseRepoRef(input)).toThrow(
      expect.objectContaining({
        code: "bad_request",
        message: expect.stringMatching(/Give a Hugging Face model as "owner\/name"/),
      }),
    ),
  );
});

describe("checkRepoFile", () => {
  it("takes GGUF paths inside the repo and refuses the rest", () => {
    expect(checkRepoFile("sub/m-Q8_0.gguf")).toBe("sub/m-Q8_0.gguf");
    expect(() => checkRepoFile("../m.gguf")).toThrow(/not a file path inside a Hugging Face repo/);
    expect(() => checkRepoFile("/m.gguf")).toThrow(/not a file path/);
    expect(() => checkRepoFile("model.safetensors")).toThrow(/not a GGUF file/);
  });
});
