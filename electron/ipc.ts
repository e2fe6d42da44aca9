// The Electron transport: contract requests from the preload go through the same dispatcher as
// the web host's; contract events go to the window. Only the app's own page may call in.
import type { IpcMain, IpcMainInvokeEvent } from "electron";
import type { ReplyEnvelope } from "./contract.js";
import type { Dispatch } from "./dispatch.js";
import { eventBatches } from "./event-batches.js";
import { IPC_EVENT, IPC_REQUEST } from "./ipc-channels.js";
import type { EventBus } from "./services/event-bus.js";
import { isAppUrl } from "./window.js";

export interface IpcOptions {
  ipcMain: Pick<IpcMain, "handle" | "removeHandler">;
  dispatch: Dispatch;
  events: EventBus;
  /** Delivers a message (here: an array of events) to the window (webContents.send), if there is one. */
  sendToWindow: (channel: string, message: unknown) => void;
}

const untrusted: ReplyEnvelope = {
  ok: false,
  error: { code: "bad_request", message: "Requests are accepted only from Exitlane's own page." },
};

export function registerIpc({ ipcMain, dispatch, events, sendToWindow }: IpcOptions): () => void {
  ipcMain.handle(IPC_REQUEST, async (event: IpcMainInvokeEvent, channel: unknown, payload: unknown) => {
    // A frame that somehow navigated elsewhere must not reach the back end.
    if (!isAppUrl(event.senderFrame?.url)) return untrusted;
    return dispatch(channel, payload);
  });
  // The window gets the events of one tick as one message (an array, in order).
  const batches = eventBatches((batch) => sendToWindow(IPC_EVENT, batch));
  const unsubscribe = events.subscribe((event, payload) => batches.push(event, payload));
  return () => {
    ipcMain.removeHandler(IPC_REQUEST);
    unsubscribe();
    batches.clear();
  };
}
