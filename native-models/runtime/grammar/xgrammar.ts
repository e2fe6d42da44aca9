// Loads XGrammar's WebAssembly build (@mlc-ai/web-xgrammar) under plain Node and Electron.
// The package ships one UMD file inside a `"type": "module"` package: Node loads it as an ES module,
// where its CommonJS branch (`require`, `__filename`) is missing and it fails. So its text is run as
// the CommonJS module it is written as. Its Emscripten glue reaches node:module through a dynamic
// `import()`, which code compiled by `vm` may not call, so that one call is handed a function that
// does it here. The WebAssembly binary is embedded in the file (a data URI): nothing is fetched.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import vm from "node:vm";
import type * as XGrammar from "@mlc-ai/web-xgrammar";

export type XGrammarModule = typeof XGrammar;

const DYNAMIC_IMPORT = "import('module')";
let loaded: XGrammarModule | undefined;

export function loadXGrammar(): XGrammarModule {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const file = require.resolve("@mlc-ai/web-xgrammar");
  const source = readFileSync(file, "utf8");
  if (!source.includes(DYNAMIC_IMPORT))
    throw new Error(
      `@mlc-ai/web-xgrammar changed its loader (no ${DYNAMIC_IMPORT} in ${file}); see xgrammar.ts`,
    );
  const wrapper = vm.compileFunction(
    source.replaceAll(DYNAMIC_IMPORT, "__importBuiltin('module')"),
    ["exports", "module", "require", "__filename", "__dirname", "__importBuiltin"],
    { filename: file },
  );
  const module = { exports: {} as Record<string, unknown> };
  const importBuiltin = (name: string) => import(`node:${name}`);
  wrapper(module.exports, module, require, file, path.dirname(file), importBuiltin);
  loaded = module.exports as unknown as XGrammarModule;
  return loaded;
}
