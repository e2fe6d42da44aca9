// The headless Exitlane CLI: the engine's commands (native-models/cli/main.ts) plus the back end's
// own, which need more than the engine: `download` (the model hub) and `serve` (the local
// OpenAI-compatible server). No Electron here either.
//   npm run --silent cli -- <command> [flags]
import { ENGINE_USAGE, engineCommands, runCli } from "../native-models/cli/main.js";
import { downloadCommand, DOWNLOAD_USAGE } from "./cli/download.js";
import { serveCommand, SERVE_USAGE } from "./cli/serve.js";

process.exitCode = await runCli(
  process.argv.slice(2),
  { ...engineCommands, download: downloadCommand, serve: serveCommand },
  [ENGINE_USAGE, DOWNLOAD_USAGE, SERVE_USAGE].join("\n"),
);
