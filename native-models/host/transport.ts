// The host's one link to its parent. Electron's utilityProcess gives it `process.parentPort`;
// child_process.fork gives it `process.send`. Everything above this file sees one interface.
import type { HostToParent } from "./protocol.js";

export interface HostTransport {
  send(message: HostToParent): void;
  onMessage(listener: (message: unknown) => void): void;
  /** Called when the parent goes away, so the host never outlives the app. */
  onParentGone(listener: () => void): void;
}

interface ParentPort {
  postMessage(message: unknown): void;
  on(event: "message", listener: (event: { data: unknown }) => void): void;
}

export function connectToParent(): HostTransport {
  const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
  if (parentPort) {
    return {
      send: (message) => parentPort.postMessage(message),
      onMessage: (listener) => parentPort.on("message", (event) => listener(event.data)),
      // Electron ends a utility process together with its parent.
      onParentGone: () => {},
    };
  }
  const send = process.send?.bind(process);
  if (send) {
    return {
      // With a callback, a send that fails because the parent has just died (EPIPE) is not thrown
      // as an uncaught 'error' event; the "disconnect" below ends the host quietly instead.
      send: (message) => void send(message, undefined, undefined, () => {}),
      onMessage: (listener) => process.on("message", listener),
      onParentGone: (listener) => process.on("disconnect", listener),
    };
  }
  throw new Error(
    "The engine host must be started by Exitlane (no parent channel: use utilityProcess or child_process.fork).",
  );
}
