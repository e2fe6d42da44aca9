// Who may talk to the loopback web host: requests that carry this run's random token (cookie,
// `?token=` or header), aimed at the host's own address (no DNS rebinding), and for WebSockets and
// uploads, sent by a page of the host's own origin (no other local web page can drive it).
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

export const newToken = (): string => randomBytes(32).toString("base64url");

/** Cookies are not separated by port, so each run's cookie name carries its port. */
export const cookieName = (port: number): string => `exitlane_token_${port}`;

export function tokenCookie(port: number, token: string): string {
  return `${cookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`;
}

export function sameToken(expected: string, given: string | null | undefined): boolean {
  if (!given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function readCookie(header: string | undefined, name: string): string | null {
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

export interface AuthCheck {
  ok: boolean;
  /** The token came in the URL (first page load): the response should set the cookie. */
  fromQuery: boolean;
  reason?: string;
}

export class WebAuth {
  constructor(
    readonly token: string,
    readonly port: number,
  ) {}

  /** The Host header must name this server, so a rebound DNS name cannot reach it. */
  hostAllowed(req: IncomingMessage): boolean {
    return req.headers.host === `127.0.0.1:${this.port}` || req.headers.host === `localhost:${this.port}`;
  }

  /** The Origin must be this server's own (as the browser saw it). */
  originAllowed(req: IncomingMessage, { required }: { required: boolean }): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return !required;
    return this.hostAllowed(req) && origin === `http://${req.headers.host}`;
  }

  check(req: IncomingMessage, url: URL): AuthCheck {
    if (!this.hostAllowed(req)) return { ok: false, fromQuery: false, reason: "wrong Host header" };
    const fromQuery = sameToken(this.token, url.searchParams.get("token"));
    const fromCookie = sameToken(this.token, readCookie(req.headers.cookie, cookieName(this.port)));
    const header = req.headers["x-exitlane-token"];
    const fromHeader = sameToken(this.token, typeof header === "string" ? header : null);
    if (fromQuery || fromCookie || fromHeader) return { ok: true, fromQuery };
    return { ok: false, fromQuery: false, reason: "missing or wrong token" };
  }
}
