import { describe, expect, it } from "vitest";
import { runHost } from "./host.js";
import { HostMethodError, type MethodTable } from "./methods.js";
import { HostReply, type HostToParent } from "./protocol.js";
import type { HostTransport } from "./transport.js";

function fakeParent(table: MethodTable) {
  const sent: HostToParent[] = [];
  let deliver: (m: unknown) => void = () => {};
  const transport: HostTransport = {
    send: (m) => void sent.push(m),
    onMessage: (l) => void (deliver = l),
    onParentGone: () => {},
  };
  runHost(transport, table);
  const ask = async (message: unknown) => {
    const before = sent.length;
    deliver(message);
    await new Promise((r) => setTimeout(r, 5));
    return sent.slice(before);
  };
  return { sent, ask };
}

const table: MethodTable = {
  listModels: async ({ modelsDir }) => {
    if (modelsDir === "/missing") throw new HostMethodError("not_found", "no such folder");
    if (modelsDir === "/corrupt")
      throw new HostMethodError("model_format", "not a GGUF file", {
        formatCode: "bad_magic",
        file: "/corrupt/x",
      });
    return [];
  },
  stop: async () => {
    throw new Error("boom");
  },
};

describe("runHost", () => {
  it("announces itself with the methods it implements", () => {
    const { sent } = fakeParent(table);
    expect(sent[0]).toMatchObject({
      event: "ready",
      protocol: 2,
      pid: process.pid,
      methods: ["listModels", "stop"],
    });
  });

  it("answers a valid request with the same id", async () => {
    const { ask } = fakeParent(table);
    expect(await ask({ id: 7, method: "listModels", params: { modelsDir: "/m" } })).toEqual([
      { id: 7, ok: true, result: [] },
    ]);
  });

  it("rejects malformed requests, unknown methods and bad params with clear errors", async () => {
    const { ask } = fakeParent(table);
    expect(await ask({ id: 1, method: "listModels", params: { modelsDir: 5 } })).toMatchObject([
      {
        id: 1,
        ok: false,
        error: { code: "bad_request", message: expect.stringContaining("Invalid params for listModels") },
      },
    ]);
    expect(await ask({ id: 2, method: "rm -rf", params: {} })).toMatchObject([
      { id: 2, ok: false, error: { code: "bad_request", message: 'Unknown method "rm -rf"' } },
    ]);
    expect(await ask({ id: 3, method: "info", params: {}, extra: true })).toMatchObject([
      { id: 3, ok: false, error: { code: "bad_request" } },
    ]);
    expect(await ask("garbage")).toEqual([]);
  });

  it("says which methods are not implemented yet", async () => {
    const { ask } = fakeParent(table);
    expect(await ask({ id: 4, method: "generate", params: {} })).toMatchObject([
      { id: 4, ok: false, error: { code: "not_implemented" } },
    ]);
  });

  it("passes typed method errors through and survives unexpected ones", async () => {
    const { ask } = fakeParent(table);
    expect(await ask({ id: 5, method: "listModels", params: { modelsDir: "/missing" } })).toEqual([
      { id: 5, ok: false, error: { code: "not_found", message: "no such folder" } },
    ]);
    expect(await ask({ id: 6, method: "stop", params: { genId: "g" } })).toEqual([
      { id: 6, ok: false, error: { code: "failed", message: "boom" } },
    ]);
    const [corrupt] = await ask({ id: 9, method: "listModels", params: { modelsDir: "/corrupt" } });
    expect(corrupt).toEqual({
      id: 9,
      ok: false,
      error: {
        code: "model_format",
        message: "not a GGUF file",
        detail: { formatCode: "bad_magic", file: "/corrupt/x" },
      },
    });
    expect(HostReply.parse(corrupt)).toEqual(corrupt);
    expect(await ask({ id: 8, method: "listModels", params: { modelsDir: "/m" } })).toEqual([
      { id: 8, ok: true, result: [] },
    ]);
  });
});
