// The one place that decides the transport. Electron's preload puts the API on window.exitlane;
// anywhere else (a browser pointed at the loopback web host) the WebSocket client is used.
import { settleApi, type ExitlaneApi } from "../../electron/contract";
import { rejectWithApiError } from "../../wire/errors";
import { socketUrl, takeToken, uploadUrl } from "./auth";
import { createWsApi } from "./wsApi";

export function createApi(win: Window = window): ExitlaneApi {
  if (win.exitlane) return withApiErrors(win.exitlane);
  const token = takeToken(win.location, win.history);
  return createWsApi({
    url: socketUrl(win.location.href, token),
    uploadUrl: uploadUrl(win.location.href, token),
  });
}

/**
 * Whether the import button should open the native file dialog through the back end
 * (models.importDialog). Only Electron has one; the browser build uses <input type=file>.
 */
export function hasNativeImportDialog(api: ExitlaneApi): boolean {
  return api.transport === "ipc";
}

/** The preload's API, whose rejections crossed the context bridge as data, rejecting with ApiErrors again. */
export function withApiErrors(api: ExitlaneApi): ExitlaneApi {
  return settleApi(api, rejectWithApiError);
}
