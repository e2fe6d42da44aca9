// The two Electron IPC channels between preload and main. Every contract request travels in
// REQUEST (and is validated in main); every contract event travels in EVENT.
export const IPC_REQUEST = "exitlane:request";
export const IPC_EVENT = "exitlane:event";
