// The engine host's message loop: validate each request, run its method, reply with the same id.
// A bad request gets an error reply and changes nothing; a failing method never ends the process.
import { z } from "zod";
import { HostMethodError, type HostContext, type MethodTable } from "./methods.js";
import { HostRequest, PROTOCOL_VERSION, hostMethods, isHostMethod, type HostReply } from "./protocol.js";
import type { HostTransport } from "./transport.js";
import type { ErrorCode, ErrorDetail } from "../../wire/errors.js";

export function runHost(transport: HostTransport, table: MethodTable): void {
  const ctx: HostContext = { emit: (event) => transport.send(event) };

  transport.onMessage((raw) => {
    void handle(raw).then((reply) => reply && transport.send(reply));
  });

  transport.send({
    event: "ready",
    protocol: PROTOCOL_VERSION,
    pid: process.pid,
    methods: Object.keys(table).filter(isHostMethod),
  });

  async function handle(raw: unknown): Promise<HostReply | null> {
    const request = HostRequest.safeParse(raw);
    if (!request.success) {
      const id = readId(raw);
      return id === null
        ? null
        : fail(id, "bad_request", `Malformed request: ${z.prettifyError(request.error)}`);
    }
    const { id, method, params } = request.data;
    if (!isHostMethod(method)) return fail(id, "bad_request", `Unknown method "${method}"`);
    const handler = table[method] as ((p: unknown, c: HostContext) => Promise<unknown>) | undefined;
    if (!handler) return fail(id, "not_implemented", `The engine does not implement "${method}" yet`);
    const parsed = hostMethods[method].params.safeParse(params);
    if (!parsed.success)
      return fail(id, "bad_request", `Invalid params for ${method}: ${z.prettifyError(parsed.error)}`);
    try {
      return { id, ok: true, result: await handler(parsed.data, ctx) };
    } catch (error) {
      if (error instanceof HostMethodError) return fail(id, error.code, error.message, error.detail);
      return fail(id, "failed", error instanceof Error ? error.message : String(error));
    }
  }
}

function fail(id: number, code: ErrorCode, message: string, detail?: ErrorDetail): HostReply {
  return { id, ok: false, error: detail ? { code, message, detail } : { code, message } };
}

function readId(raw: unknown): number | null {
  const id = raw && typeof raw === "object" ? (raw as { id?: unknown }).id : undefined;
  return typeof id === "number" && Number.isInteger(id) ? id : null;
}
