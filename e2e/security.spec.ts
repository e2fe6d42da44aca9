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

test("the CSP also stops code from strings, remote fetches, remote scripts and frames", async ({
  page,
  webHost,
}) => {
  await page.goto(webHost.url);
  await page.waitForSelector("#root > *");
  const outcome = await page.evaluate(async () => {
    const violations: string[] = [];
    document.addEventListener("securitypolicyviolation", (e) => violations.push(e.violatedDirective));
    const w = window as unknown as Record<string, unknown>;
    // Code from strings, run by the page itself (DevTools' own evaluation is exempt from CSP, so
    // eval is reached through a string timer and a data: script instead of being called here).
    (setTimeout as unknown as (code: string, ms: number) => void)("window.__stringTimer = true", 0);
    const dataScript = document.createElement("script");
    dataScript.src = "data:text/javascript,window.__dataScript=true";
    document.body.appendChild(dataScript);
    let fetched = "refused";
    try {
      await fetch("https://example.com/");
      fetched = "fetched";
    } catch {
      fetched = "refused";
    }
    const script = document.createElement("script");
    script.src = "https://example.com/evil.js";
    script.onload = () => (w.__remoteScript = true);
    document.body.appendChild(script);
    const frame = document.createElement("iframe");
    frame.src = "https://example.com/";
    document.body.appendChild(frame);
    await new Promise((r) => setTimeout(r, 300));
    return {
      stringTimer: w.__stringTimer ?? null,
      dataScript: w.__dataScript ?? null,
      fetched,
      remoteScript: w.__remoteScript ?? null,
      violations,
    };
  });
  expect(outcome.stringTimer).toBeNull();
  expect(outcome.dataScript).toBeNull();
  expect(outcome.fetched).toBe("refused");
  expect(outcome.remoteScript).toBeNull();
  for (const directive of ["script-src", "connect-src", "frame-src"])
    expect(
      outcome.violations.some((v) => v.startsWith(directive)),
      `${directive} violation`,
    ).toBe(true);
});

test("page script cannot make the back end touch a path it chose", async ({ appPage, webHost }) => {
  const replies = await appPage.evaluate(async (port) => {
    // The browser's own WebSocket (this file imports the `ws` package's under the same name).
    const ws = new globalThis.WebSocket(`ws://127.0.0.1:${port}/ws`); // authenticated by the page's cookie
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = reject;
    });
    const pending = new Map<number, (r: unknown) => void>();
    ws.onmessage = (event: MessageEvent<string>) => {
      const message = JSON.parse(event.data);
      if (message.type === "reply") pending.get(message.id)?.(message);
    };
    let id = 0;
    const ask = (channel: string, payload: unknown) =>
      new Promise<unknown>((resolve) => {
        pending.set(++id, resolve);
        ws.send(JSON.stringify({ id, channel, payload }));
      });
    const out = {
      importPath: await ask("models.importPath", { path: "/etc/passwd" }),
      importFolder: await ask("models.importPath", { path: "../../" }),
      modelsDir: await ask("settings.set", { modelsDir: "/etc" }),
      chooseDir: await ask("settings.chooseModelsDir", {}),
      dialog: await ask("models.importDialog", { folder: false }),
      jobs: await ask("models.jobs", {}),
    };
    ws.close();
    return out;
  }, webHost.port);
  const r = replies as Record<string, { ok: boolean; result?: unknown; error?: { code: string } }>;
  for (const name of ["importPath", "importFolder", "modelsDir", "chooseDir", "dialog"])
    expect(r[name], name).toMatchObject({ ok: false, error: { code: "bad_request" } });
  expect((r.jobs.result as Array<{ source: string }>).some((j) => /passwd|\.\.\//.test(j.source))).toBe(
    false,
  );
});
