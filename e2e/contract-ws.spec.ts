// The contract over the web host's WebSocket, driven from a page of the app's own origin:
// real replies from the engine host, clear errors for malformed messages, nothing changed by them.
import { expect, test } from "./support/fixtures";

type Reply = {
  type: "reply";
  id: number;
  ok: boolean;
  result?: unknown;
  error?: { code: string; message: string };
};

test("answers requests and refuses malformed ones over the WebSocket", async ({ appPage, webHost }) => {
  const replies = await appPage.evaluate(async (port) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`); // authenticated by the page's cookie
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = reject;
    });
    const pending = new Map<number, (r: unknown) => void>();
    ws.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "reply") pending.get(message.id)?.(message);
    };
    const ask = (id: number, frame: string) =>
      new Promise((resolve) => {
        pending.set(id, resolve);
        ws.send(frame);
      });
    const results = {
      info: await ask(1, JSON.stringify({ id: 1, channel: "engine.info", payload: {} })),
      created: await ask(8, JSON.stringify({ id: 8, channel: "chat.create", payload: { title: "Keep me" } })),
      before: await ask(2, JSON.stringify({ id: 2, channel: "chat.list", payload: {} })),
      wrongType: await ask(3, JSON.stringify({ id: 3, channel: "chat.create", payload: { title: 42 } })),
      missing: await ask(4, JSON.stringify({ id: 4, channel: "chat.rename", payload: { title: "x" } })),
      unknown: await ask(5, JSON.stringify({ id: 5, channel: "shell.exec", payload: { cmd: "rm -rf /" } })),
      notJson: await ask(-1, "{this is not json"),
      importPath: await ask(
        6,
        JSON.stringify({ id: 6, channel: "models.importPath", payload: { path: "/etc/passwd" } }),
      ),
      after: await ask(7, JSON.stringify({ id: 7, channel: "chat.list", payload: {} })),
    };
    ws.close();
    return results;
  }, webHost.port);
  const r = replies as Record<string, Reply>;
  expect(r.info).toMatchObject({
    ok: true,
    result: {
      cpu: { cores: expect.any(Number) },
      nativeKernels: { available: expect.any(Boolean), detail: expect.any(String) },
    },
  });
  expect(r.wrongType).toMatchObject({
    ok: false,
    error: { code: "bad_request", message: expect.stringMatching(/chat\.create.*expected string/s) },
  });
  expect(r.missing).toMatchObject({
    ok: false,
    error: { code: "bad_request", message: expect.stringContaining("id") },
  });
  expect(r.unknown).toMatchObject({
    ok: false,
    error: { code: "unknown_channel", message: 'Unknown channel "shell.exec".' },
  });
  expect(r.notJson).toMatchObject({
    ok: false,
    error: { code: "bad_request", message: "The message is not valid JSON." },
  });
  expect(r.importPath).toMatchObject({
    ok: false,
    error: { code: "bad_request", message: expect.stringMatching(/uploading/) },
  });
  expect(r.created).toMatchObject({ ok: true, result: { title: "Keep me" } });
  expect((r.before.result as unknown[]).length).toBeGreaterThan(0);
  expect(r.after.result).toEqual(r.before.result);
});
