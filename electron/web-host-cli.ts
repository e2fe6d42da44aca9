// `npm run web`: the whole back end under plain Node, with the UI served to a browser over the
// loopback web host. Bundled to dist/main/web.cjs, next to the renderer and the engine host.
//
//   node dist/main/web.cjs [--port N] [--user-data DIR] [--json]
//
// --json prints one line {"url","origin","token","port","pid"} instead of the greeting (for tests).
import { mkdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createBackend } from "./services/backend.js";
import { forkNodeHost } from "./services/host-process.js";
import { defaultUserDataDir } from "./user-data.js";
import { WEB_HOST_REFUSALS, startWebHost } from "./web-host.js";

async function main() {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: "0" },
      "user-data": { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  const distDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  const userDataDir = path.resolve(values["user-data"] ?? defaultUserDataDir());
  const uploadRoot = path.join(os.tmpdir(), `exitlane-uploads-${process.pid}`);
  mkdirSync(uploadRoot, { recursive: true });

  const backend = createBackend({
    userDataDir,
    engine: { spawn: forkNodeHost(path.join(distDir, "engine", "host.cjs")) },
    validate: process.env.NODE_ENV !== "production",
    refuse: WEB_HOST_REFUSALS,
  });
  const host = await startWebHost({
    dispatch: backend.dispatch,
    events: backend.events,
    rendererDir: path.join(distDir, "renderer"),
    uploadRoot,
    startImport: (request) => backend.services.imports.startImport(request),
    port: Number(values.port),
  });

  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    await host.close();
    await backend.close();
    rmSync(uploadRoot, { recursive: true, force: true });
    process.exit(0);
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);

  if (values.json) {
    console.log(
      JSON.stringify({
        url: host.url,
        origin: host.origin,
        token: host.token,
        port: host.port,
        pid: process.pid,
      }),
    );
  } else {
    console.log(
      `Exitlane is running at\n\n  ${host.url}\n\nOpen that address in a browser on this computer (it carries this run's access token).`,
    );
    console.log(`Data folder: ${userDataDir}\nPress Ctrl+C to stop.`);
  }
}

main().catch((error) => {
  console.error(`Exitlane web host could not start: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
