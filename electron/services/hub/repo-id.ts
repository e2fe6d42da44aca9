// Reading what a user typed or pasted as a Hugging Face model: a repo id ("owner/name") or a hub
// URL to the repo or to one of its files (/blob/main/…, /resolve/main/…, /tree/main). Anything
// else is refused with a message saying what is accepted, so a typo never becomes a request.
import { ChannelError } from "../errors.js";

export interface RepoRef {
  repo: string;
  /** The file, when the URL pointed at one. */
  file?: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/;
const ACCEPTED =
  'Give a Hugging Face model as "owner/name" (e.g. Qwen/Qwen2.5-0.5B-Instruct-GGUF) or as its huggingface.co URL.';

export function parseRepoRef(input: string): RepoRef {
  const text = input.trim();
  const bad = (why: string) => new ChannelError("bad_request", `"${input}" ${why}. ${ACCEPTED}`);
  let parts: string[];
  if (/^https?:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw bad("is not a valid URL");
    }
    if (!/^(www\.)?huggingface\.co$/i.test(url.hostname) || url.search || url.hash)
      throw bad("is not a huggingface.co model URL");
    parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  } else {
    parts = text.split("/");
  }
  const [owner, name, kind, revision, ...rest] = parts;
  if (!owner || !name || !NAME.test(owner) || !NAME.test(name) || name.includes(".."))
    throw bad("is not a model repo id");
  const repo = `${owner}/${name}`;
  if (kind === undefined) return { repo };
  if (kind === "tree" && revision === "main" && rest.length === 0) return { repo };
  if ((kind === "blob" || kind === "resolve") && revision === "main" && rest.length > 0) {
    if (rest.some((p) => p === ".." || p === ".")) throw bad("names a file outside the repo");
    return { repo, file: rest.join("/") };
  }
  throw bad("is not a link to the repo, its main branch, or a file on it");
}

/** A file path inside a repo, checked the same way (the UI and the CLI send these). */
export function checkRepoFile(file: string): string {
  const parts = file.split("/");
  if (parts.some((p) => p === "" || p === "." || p === "..") || file.includes("\\"))
    throw new ChannelError("bad_request", `"${file}" is not a file path inside a Hugging Face repo.`);
  if (!file.toLowerCase().endsWith(".gguf"))
    throw new ChannelError(
      "bad_request",
      `"${file}" is not a GGUF file; only .gguf files can be downloaded and imported.`,
    );
  return file;
}
