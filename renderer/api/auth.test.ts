import { describe, expect, it } from "vitest";
import { backoffDelay } from "./backoff";
import { socketUrl, takeToken, uploadUrl } from "./auth";

function memoryStorage() {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) };
}

describe("web host auth", () => {
  it("takes ?token= from the address and strips it with replaceState", () => {
    const calls: string[] = [];
    const history = {
      state: null,
      replaceState: (_s: unknown, _t: string, url?: string | URL | null) => void calls.push(String(url)),
    };
    const storage = memoryStorage();
    const token = takeToken({ href: "http://127.0.0.1:5123/?token=abc123&x=1#chat" }, history, storage);
    expect(token).toBe("abc123");
    expect(calls).toEqual(["/?x=1#chat"]);
    // after a reload the address has no token: this tab remembers it
    expect(takeToken({ href: "http://127.0.0.1:5123/" }, history, storage)).toBe("abc123");
    expect(calls).toHaveLength(1);
    expect(takeToken({ href: "http://127.0.0.1:5123/" }, history, memoryStorage())).toBeNull();
  });

  it("builds the WebSocket and upload URLs on the same host", () => {
    expect(socketUrl("http://127.0.0.1:5123/index.html", "t")).toBe("ws://127.0.0.1:5123/ws?token=t");
    expect(socketUrl("https://localhost:8443/", null)).toBe("wss://localhost:8443/ws");
    expect(uploadUrl("http://127.0.0.1:5123/", "t k")).toBe("http://127.0.0.1:5123/upload?token=t+k");
  });

  it("backs off exponentially with a cap and jitter", () => {
    const noJitter = () => 1;
    expect(backoffDelay(0, noJitter)).toBe(250);
    expect(backoffDelay(1, noJitter)).toBe(500);
    expect(backoffDelay(4, noJitter)).toBe(4000);
    expect(backoffDelay(10, noJitter)).toBe(5000);
    expect(backoffDelay(2, () => 0)).toBe(800);
  });
});
