// `download` (being built; see issue 12).
export const DOWNLOAD_USAGE = "  download (not built yet)";

export async function downloadCommand(_argv: string[]): Promise<void> {
  throw new Error("download is not built yet");
}
