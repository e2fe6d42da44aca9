// Turning a drop into import groups: each dropped file is one import, each dropped folder is one
// import of every file inside it (Hugging Face folders). Folders are walked with the File and
// Directory Entries API (DataTransferItem.webkitGetAsEntry), the only way a page can read a dropped
// folder. Written against minimal interfaces so tests can pass plain objects.
import { setRelativePath } from "../api/relativePaths";
import type { DropGroup } from "./importJobs";

export interface EntryLike {
  isFile: boolean;
  isDirectory: boolean;
  name: string;
  fullPath?: string;
}
export interface FileEntryLike extends EntryLike {
  file(success: (file: File) => void, error?: (err: unknown) => void): void;
}
export interface DirectoryEntryLike extends EntryLike {
  createReader(): {
    readEntries(success: (entries: EntryLike[]) => void, error?: (err: unknown) => void): void;
  };
}
export interface ItemLike {
  kind: string;
  getAsFile(): File | null;
  webkitGetAsEntry?: () => EntryLike | null;
}
export interface DataTransferLike {
  items?: ArrayLike<ItemLike> | null;
  files?: ArrayLike<File> | null;
  types?: ReadonlyArray<string> | DOMStringList;
}

/** True while a drag carries files (and not, say, selected text). */
export function dragHasFiles(dt: DataTransferLike | null | undefined): boolean {
  if (!dt?.types) return false;
  return Array.from(dt.types as ArrayLike<string>).includes("Files");
}

/** Hidden files and OS clutter inside dropped folders are not part of a model. */
export function isClutter(name: string): boolean {
  return name.startsWith(".") || name === "Thumbs.db" || name === "desktop.ini";
}

/** Maximum depth walked inside a dropped folder (HF folders are flat; this stops runaway trees). */
const MAX_DEPTH = 4;

export async function collectDropGroups(dt: DataTransferLike): Promise<DropGroup[]> {
  // Entries must be taken synchronously during the drop event, before any await.
  const items = dt.items ? Array.from(dt.items) : [];
  const entries: (EntryLike | null)[] = items
    .filter((i) => i.kind === "file")
    .map((i) => i.webkitGetAsEntry?.() ?? null);
  const plainFiles = items.filter((i) => i.kind === "file").map((i) => i.getAsFile());

  if (entries.length === 0 || entries.every((e) => e === null)) {
    const files = dt.files ? Array.from(dt.files) : plainFiles.filter((f): f is File => f !== null);
    return files.map((f) => ({ label: f.name, files: [f] }));
  }

  const groups: DropGroup[] = [];
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    if (entry === null) {
      const f = plainFiles[i];
      if (f) groups.push({ label: f.name, files: [f] });
      continue;
    }
    if (entry.isDirectory) {
      const files = await walkDirectory(entry as DirectoryEntryLike, 0, entry.name);
      groups.push({ label: entry.name, files });
    } else if (entry.isFile) {
      // getAsFile keeps the File that Electron can resolve to a path; fall back to the entry.
      const f = plainFiles[i] ?? (await entryFile(entry as FileEntryLike));
      groups.push({ label: entry.name, files: [f] });
    }
  }
  return groups;
}

async function walkDirectory(dir: DirectoryEntryLike, depth: number, prefix: string): Promise<File[]> {
  const out: File[] = [];
  const children = await readAllEntries(dir);
  for (const child of children) {
    if (isClutter(child.name)) continue;
    const path = `${prefix}/${child.name}`;
    if (child.isFile) {
      const file = await entryFile(child as FileEntryLike);
      setRelativePath(file, path);
      out.push(file);
    } else if (child.isDirectory && depth + 1 < MAX_DEPTH) {
      out.push(...(await walkDirectory(child as DirectoryEntryLike, depth + 1, path)));
    }
  }
  return out;
}

/** readEntries returns at most ~100 entries per call; keep calling until it returns none. */
async function readAllEntries(dir: DirectoryEntryLike): Promise<EntryLike[]> {
  const reader = dir.createReader();
  const all: EntryLike[] = [];
  for (;;) {
    const batch = await new Promise<EntryLike[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}

function entryFile(entry: FileEntryLike): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

/** Groups the files of an <input type=file webkitdirectory> by their top folder. */
export function groupsFromFolderInput(files: ArrayLike<File>): DropGroup[] {
  const byFolder = new Map<string, File[]>();
  for (const f of Array.from(files)) {
    const rel = f.webkitRelativePath || f.name;
    const top = rel.includes("/") ? rel.slice(0, rel.indexOf("/")) : "";
    const base = rel.slice(rel.lastIndexOf("/") + 1);
    if (isClutter(base)) continue;
    const list = byFolder.get(top);
    if (list) list.push(f);
    else byFolder.set(top, [f]);
  }
  return [...byFolder].map(([folder, list]) => ({ label: folder || list[0].name, files: list }));
}
