// Boundaries a browser can test: the token and Origin checks of the web host, and the CSP.
import WebSocket from "ws";
import { expect, test } from "./support/fixtures";

test("without the token the page is 403 and the WebSocket is refused", async ({ browser, webHost }) => {
  const stranger = await browser.newContext();
  const page = await stranger.newPage();
  const response = await page.goto(webHost.origin);
  expect(response?.status()).toBe(403);
  const socket = await page.evaluate(
    (port) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
        ws.onopen = () => resolve("open");
        ws.onerror = () => resolve("refused");
      }),
    webHost.port,
  );
  expect(socket).toBe("refused");
  await stranger.close();
});

test("a page of another origin cannot open the socket even with the token", async ({ webHost }) => {
  const attempt = (headers: Record<string, string>) =>
    new Promise<string>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${webHost.port}/ws?token=${webHost.token}`, { headers });
      ws.on("open", () => {
        ws.close();
        resolve("open");
      });
      ws.on("unexpected-response", (_req, res) => resolve(`refused ${res.statusCode}`));
      ws.on("error", () => resolve("error"));
    });
  expect(await attempt({ Origin: "http://evil.example" })).toBe("refused 403");
  expect(await attempt({ Origin: "null" })).toBe("refused 403");
  expect(await attempt({ Origin: webHost.origin })).toBe("open");
});

test("the CSP stops injected inline script and remote content", async ({ page, webHost }) => {
  await page.goto(webHost.url);
  await page.waitForSelector("#root > *");
  const outcome = await page.evaluate(async () => {
    const violations: string[] = [];
    document.addEventListener("securitypolicyviolation", (e) =>
      violations.push(`${e.violatedDirective} ${e.blockedURI}`),
    );
    const w = window as unknown as Record<string, unknown>;
    const script = document.createElement("script");
    script.textContent = "window.__injected = true";
    document.body.appendChild(script);
    const img = document.createElement("img");
    img.setAttribute("onerror", "window.__handler = true");
    img.src = "x:";
    document.body.appendChild(img);
    const remote = document.createElement("img");
    remote.src = "https://example.com/pixel.png";
    document.body.appendChild(remote);
    await new Promise((r) => setTimeout(r, 300));
    return { injected: w.__injected ?? null, handler: w.__handler ?? null, violations };
  });
  expect(outcome.injected).toBeNull();
  expect(outcome.handler).toBeNull();
  expect(outcome.violations.some((v) => v.startsWith("script-src"))).toBe(true);
  expect(outcome.violations.some((v) => v.startsWith("img-src") && v.includes("example.com"))).toBe(true);
});
