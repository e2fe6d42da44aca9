import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { contentSecurityPolicy } from "./csp.js";

const directives = (policy: string) =>
  new Map(
    policy
      .split(";")
      .map((d) => d.trim().split(/\s+/))
      .filter((p) => p[0])
      .map(([name, ...values]) => [name, values]),
  );

describe("the content security policy", () => {
  it("allows only the app's own scripts and nothing remote", () => {
    const csp = directives(contentSecurityPolicy());
    expect(csp.get("default-src")).toEqual(["'none'"]);
    expect(csp.get("script-src")).toEqual(["'self'"]);
    expect(csp.get("object-src")).toEqual(["'none'"]);
    expect(csp.get("frame-ancestors")).toEqual(["'none'"]);
    expect(contentSecurityPolicy()).not.toMatch(/unsafe-(inline|eval)|https?:|\*/);
    expect(directives(contentSecurityPolicy({ meta: true })).has("frame-ancestors")).toBe(false);
  });

  it("is matched by the page's own <meta> policy: no inline or eval script, no remote sources", () => {
    const html = readFileSync(path.resolve(import.meta.dirname, "../renderer/index.html"), "utf8");
    const meta = html.match(/http-equiv="Content-Security-Policy"\s+content="([^"]+)"/)?.[1];
    expect(meta, "renderer/index.html must carry a CSP <meta> tag").toBeTruthy();
    const csp = directives(meta!);
    expect(csp.get("script-src")).toEqual(["'self'"]);
    expect(meta).not.toMatch(/unsafe-(inline|eval)|https?:/);
  });
});
