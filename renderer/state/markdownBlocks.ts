// Streaming Markdown cheaply: an answer is split into top-level blocks at blank lines outside
// fenced code, so while it streams only the last (growing) block is parsed again; the finished
// blocks above it keep their rendered output. Pure, so it is tested on its own.

const OPEN_FENCE = /^ {0,3}(`{3,}|~{3,})/;
const CLOSE_FENCE = /^ {0,3}(`{3,}|~{3,})\s*$/;
/** A reference-style link definition ("[id]: url") can be used from any block: do not split then. */
const REFERENCE_DEFINITION = /^ {0,3}\[[^\]]+\]:\s*\S/m;

export function splitMarkdownBlocks(text: string): string[] {
  if (!text) return [];
  if (REFERENCE_DEFINITION.test(text)) return [text];
  const blocks: string[] = [];
  let current: string[] = [];
  let fence: string | null = null; // the opening fence run, e.g. "```"
  const push = () => {
    if (current.length) blocks.push(current.join("\n"));
    current = [];
  };
  for (const line of text.split("\n")) {
    if (fence) {
      current.push(line);
      const close = CLOSE_FENCE.exec(line);
      if (close && close[1][0] === fence[0] && close[1].length >= fence.length) fence = null;
      continue;
    }
    const open = OPEN_FENCE.exec(line);
    if (open) {
      fence = open[1];
      current.push(line);
    } else if (line.trim() === "") {
      push();
    } else {
      current.push(line);
    }
  }
  push();
  return blocks;
}
