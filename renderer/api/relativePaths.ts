// Where a File sat inside a dropped folder ("my-model/config.json"). Files read from a dropped
// folder's entries have an empty webkitRelativePath, and wrapping them in a new File would lose the
// path Electron resolves, so the relative path travels beside the File in a WeakMap.
const paths = new WeakMap<File, string>();

export function setRelativePath(file: File, relativePath: string): void {
  paths.set(file, relativePath.replace(/^\/+/, ""));
}

/** The name to upload a file under: its path inside the dropped/picked folder, else its name. */
export function relativePathOf(file: File): string {
  return paths.get(file) || file.webkitRelativePath || file.name;
}
