// Entry point of the engine host process (bundled to dist/engine/host.cjs).
// Started by the app as an Electron utilityProcess, or by child_process.fork under plain Node.
import { runHost } from "./host.js";
import { methods } from "./methods.js";
import { EngineState } from "./engine-methods.js";
import { connectToParent } from "./transport.js";

const transport = connectToParent();
transport.onParentGone(() => process.exit(0));
runHost(transport, { ...methods, ...new EngineState().methods() });
