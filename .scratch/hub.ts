import { startHubServer } from "../electron/test-support/hub-server.js";
const s = await startHubServer({ "a/b": { files: [{ path: "m.gguf", source: "/work/shared/models/stories260K/gguf/stories260K-f32.gguf" }], architecture: "llama" } }, { dropOnceAt: 0.4 });
console.log(s.url);
await new Promise(r => setTimeout(r, 60000));
