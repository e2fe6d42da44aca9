import { useMemo } from "react";
import { useApi } from "./context";
import { isMacPlatform, type KeyHost } from "./shortcuts";

/** The platform and build the shortcuts are for: the desktop app talks IPC, a browser tab does not. */
export function useKeyHost(): KeyHost {
  const api = useApi();
  return useMemo(
    () => ({
      mac: typeof navigator !== "undefined" && isMacPlatform(navigator.platform || navigator.userAgent),
      browser: api.transport !== "ipc",
    }),
    [api],
  );
}
