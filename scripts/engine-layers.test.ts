// The lint rules that keep the engine's structure (eslint.config.js): no import cycles anywhere,
// native-models/ folders import only from the layers below them, and wire/ imports only zod. Probe
// files that break each rule are written into the tree for the length of the test and linted with
// the real config.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ESLint } from "eslint";
import { afterAll, describe, expect, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const probes = mkdtempSync(path.join(root, "native-models", "runtime", "lint-probe-"));
const wireProbes = mkdtempSync(path.join(root, "wire", "lint-probe-"));
afterAll(() => {
  rmSync(probes, { recursive: true, force: true });
  rmSync(wireProbes, { recursive: true, force: true });
});

async function ruleIds(files: Record<string, string>, dir = probes): Promise<string[]> {
  const paths = Object.entries(files).map(([name, text]) => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  });
  const results = await new ESLint({ cwd: root, ignore: false }).lintFiles(paths);
  return results.flatMap((r) => r.messages.map((m) => m.ruleId ?? m.message));
}

describe("engine structure lint rules", () => {
  it("reject an import cycle", async () => {
    const ids = await ruleIds({
      "a.ts": 'import { b } from "./b.js";\nexport const a = (): number => b() + 1;\n',
      "b.ts": 'import { a } from "./a.js";\nexport const b = (): number => a() - 1;\n',
    });
    expect(ids).toContain("import-x/no-cycle");
  }, 60_000);

  it("reject an import from a higher layer, and accept one from a lower layer", async () => {
    // runtime/ may use kernels/ but not engine/.
    expect(
      await ruleIds({ "up.ts": 'export { LoadedModel } from "../../engine/loaded-model.js";\n' }),
    ).toContain("import-x/no-restricted-paths");
    expect(
      await ruleIds({ "down.ts": 'export { loadNativeKernels } from "../../kernels/index.js";\n' }),
    ).toEqual([]);
  }, 60_000);

  it("reject an import into wire/ of anything but zod and wire's own files", async () => {
    const zod = 'import { z } from "zod";\n';
    expect(
      await ruleIds(
        { "up.ts": `${zod}export { ChannelError } from "../../electron/services/errors.js";\n` },
        wireProbes,
      ),
    ).toContain("no-restricted-imports");
    expect(
      await ruleIds({ "node.ts": `${zod}export { readFile } from "node:fs/promises";\n` }, wireProbes),
    ).toContain("no-restricted-imports");
    expect(
      await ruleIds(
        { "a.ts": `${zod}export const a = z.string();\n`, "b.ts": 'export { a } from "./a.js";\n' },
        wireProbes,
      ),
    ).toEqual([]);
  }, 60_000);
});
