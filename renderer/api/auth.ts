// The web host's per-run token. The host sets an HttpOnly cookie when the page is first opened
// with /?token=…; the page also reads the token from the address, sends it on the WebSocket URL,
// and removes it from the address bar so it does not end up in history or screenshots.
import { UPLOAD_PATH, WS_PATH } from "../../electron/contract";

const SESSION_KEY = "exitlane.token";

export interface LocationLike {
  href: string;
}

/** Reads ?token= from the address, strips it with history.replaceState, and remembers it for this tab. */
export function takeToken(
  loc: LocationLike = window.location,
  history: Pick<History, "replaceState" | "state"> = window.history,
  storage: Pick<Storage, "getItem" | "setItem"> | undefined = safeSessionStorage(),
): string | null {
  const url = new URL(loc.href);
  const token = url.searchParams.get("token");
  if (token) {
    url.searchParams.delete("token");
    const clean = url.pathname + (url.search ? url.search : "") + url.hash;
    try {
      history.replaceState(history.state, "", clean);
    } catch {
      // an opaque origin (file://) refuses replaceState; the token only stays in the address bar
    }
    try {
      storage?.setItem(SESSION_KEY, token);
    } catch {
      // storage disabled: the cookie still authenticates this page
    }
    return token;
  }
  try {
    return storage?.getItem(SESSION_KEY) ?? null;
  } catch {
    return null;
  }
}

/** ws://host/ws (wss on https), with the token as a query parameter when the page has one. */
export function socketUrl(pageHref: string, token: string | null): string {
  const page = new URL(pageHref);
  const url = new URL(WS_PATH, page);
  url.protocol = page.protocol === "https:" ? "wss:" : "ws:";
  if (token) url.searchParams.set("token", token);
  return url.toString();
}

export function uploadUrl(pageHref: string, token: string | null): string {
  const url = new URL(UPLOAD_PATH, pageHref);
  if (token) url.searchParams.set("token", token);
  return url.toString();
}

function safeSessionStorage(): Storage | undefined {
  try {
    return window.sessionStorage;
  } catch {
    return undefined;
  }
}
