// The headless Exitlane engine: the same code the app runs, without Electron.
//   npm run --silent cli -- <command> [flags]   (electron/cli.ts: these plus download and serve)
import { runCli } from "./cli/main.js";

process.exitCode = await runCli(process.argv.slice(2));
