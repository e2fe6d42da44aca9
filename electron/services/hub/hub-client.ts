// The hub's model API: a repo's file listing (tree) and its metadata (architecture, licence),
// reduced to what the app shows before a download: the GGUF files with their size and SHA-256, and
// why the engine could not run them where that can be told in advance.
import type { HubFile } from "../../contract.js";
import { downloadError, headersFor, hubFetch, statusError, type HubAccess } from "./hub-http.js";
import { archProblem, quantProblem } from "./support.js";

export interface RepoListing {
  repo: string;
  files: HubFile[];
  arch: string | null;
  licence: string | null;
  unsupported?: string;
}

interface TreeEntry {
  type?: string;
  path?: string;
  size?: number;
  lfs?: { oid?: string; size?: number };
}

interface ModelInfo {
  gguf?: { architecture?: string };
  config?: { model_type?: string; architectures?: string[] };
  cardData?: { license?: string };
}

const encodePath = (p: string) => p.split("/").map(encodeURIComponent).join("/");

async function getJson<T>(
  access: HubAccess,
  route: string,
  what: string,
  repo: string,
  signal?: AbortSignal,
) {
  const url = new URL(`${access.endpoint}${route}`);
  const res = await hubFetch(url, { headers: headersFor(access, url), signal }, what);
  if (!res.ok) {
    await res.body?.cancel();
    throw statusError(res.status, what, repo);
  }
  try {
    return (await res.json()) as T;
  } catch {
    throw downloadError(
      "bad_reply",
      `Hugging Face sent something other than JSON for ${what}; try again later.`,
    );
  }
}

export async function listRepo(access: HubAccess, repo: string, signal?: AbortSignal): Promise<RepoListing> {
  const what = `The model ${repo}`;
  const [tree, info] = await Promise.all([
    getJson<TreeEntry[]>(access, `/api/models/${encodePath(repo)}/tree/main?recursive=1`, what, repo, signal),
    getJson<ModelInfo>(access, `/api/models/${encodePath(repo)}`, what, repo, signal),
  ]);
  if (!Array.isArray(tree))
    throw downloadError("bad_reply", `Hugging Face's file list for ${repo} is not a list; try again later.`);
  const files: HubFile[] = tree
    .filter(
      (e) => e.type !== "directory" && typeof e.path === "string" && e.path.toLowerCase().endsWith(".gguf"),
    )
    .map((e) => ({
      path: e.path!,
      sizeBytes: e.lfs?.size ?? e.size ?? 0,
      sha256:
        typeof e.lfs?.oid === "string" && /^[0-9a-f]{64}$/i.test(e.lfs.oid) ? e.lfs.oid.toLowerCase() : null,
    }));
  const arch = info.gguf?.architecture ?? info.config?.model_type ?? info.config?.architectures?.[0] ?? null;
  const licence = info.cardData?.license ?? null;
  const unsupported = unsupportedWhy(arch, files);
  return { repo, files, arch, licence, ...(unsupported ? { unsupported } : {}) };
}

function unsupportedWhy(arch: string | null, files: HubFile[]): string | undefined {
  const archWhy = archProblem(arch);
  if (archWhy) return `This engine cannot run ${arch} models: ${archWhy}.`;
  if (files.length === 0) return "This repo has no GGUF files; only GGUF files can be downloaded here.";
  const problems = files.map((f) => quantProblem(f.path));
  if (problems.every((p) => p !== null))
    return `None of this repo's GGUF files is in a quantization the engine reads: ${[...new Set(problems)].join("; ")}.`;
  return undefined;
}

export { encodePath };
