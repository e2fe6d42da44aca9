// `serve` (being built; see issue 12).
export const SERVE_USAGE = "  serve (not built yet)";

export async function serveCommand(_argv: string[]): Promise<void> {
  throw new Error("serve is not built yet");
}
