// The HTTP side every hub request shares: the endpoint (EXITLANE_HF_ENDPOINT, default
// huggingface.co), the bearer token (sent only to the hub's own origin, never to the storage host a
// file redirects to), and the hub's HTTP statuses turned into the download error codes.
import type { DownloadErrorCode } from "../../../wire/errors.js";
import { ChannelError } from "../errors.js";

export const DEFAULT_HUB_ENDPOINT = "https://huggingface.co";

export function hubEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  return (env.EXITLANE_HF_ENDPOINT || DEFAULT_HUB_ENDPOINT).replace(/\/+$/, "");
}

export interface HubAccess {
  endpoint: string;
  /** The user's access token, read at each request (it can change while the app runs). */
  token: () => string | null;
}

export function downloadError(
  downloadCode: DownloadErrorCode,
  message: string,
  httpStatus?: number,
): ChannelError {
  return new ChannelError("download", message, { downloadCode, ...(httpStatus ? { httpStatus } : {}) });
}

/** Headers for a request to `url`: the token goes to the hub's origin only. */
export function headersFor(access: HubAccess, url: URL, extra: Record<string, string> = {}) {
  const token = access.token();
  const sameOrigin = url.origin === new URL(access.endpoint).origin;
  return { ...extra, ...(token && sameOrigin ? { authorization: `Bearer ${token}` } : {}) };
}

/** The error for a refused hub request about `what` (a repo or a file), by its status. */
export function statusError(status: number, what: string, repo: string): ChannelError {
  if (status === 401)
    return downloadError(
      "unauthorized",
      `${what} needs a Hugging Face access token (or the token given is not valid): add one in Settings → Hugging Face token (for the CLI, set HF_TOKEN).`,
      status,
    );
  if (status === 403)
    return downloadError(
      "gated",
      `${what} is gated: accept the model's terms on its Hugging Face page (huggingface.co/${repo}) with the account of your token, then try again.`,
      status,
    );
  if (status === 404)
    return downloadError("not_found", `${what} does not exist on Hugging Face (check the spelling).`, status);
  return downloadError(
    "bad_reply",
    `Hugging Face answered HTTP ${status} for ${what}; try again later.`,
    status,
  );
}

/** fetch, with a failed connection turned into a `network` download error. */
export async function hubFetch(url: URL, init: RequestInit, what: string): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    if (init.signal?.aborted) throw error;
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw downloadError(
      "network",
      `Could not reach Hugging Face for ${what} (${cause?.code ?? cause?.message ?? String(error)}); check the internet connection.`,
    );
  }
}
