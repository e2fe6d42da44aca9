// Property-based: whatever arrives on whatever channel, the dispatcher answers with an envelope,
// never runs a handler with a payload the contract rejects, and never reports an internal error.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { channels, requests } from "./contract.js";
import { createDispatcher } from "./dispatch.js";
import { recordingHandlers } from "./test-support/recording-handlers.js";

function recordingDispatcher() {
  const { handlers, received } = recordingHandlers();
  return { dispatch: createDispatcher(handlers, { validateReplies: false }), received };
}

const anyPayload = fc.oneof(
  fc.jsonValue(),
  fc.anything(),
  fc.record(
    {
      id: fc.anything(),
      title: fc.anything(),
      text: fc.anything(),
      path: fc.anything(),
      value: fc.anything(),
    },
    { requiredKeys: [] },
  ),
);

describe("dispatch (property-based)", () => {
  it("runs a handler only for payloads its request schema accepts", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...channels), anyPayload, async (channel, payload) => {
        const { dispatch, received } = recordingDispatcher();
        const reply = await dispatch(channel, payload);
        const valid = requests[channel].request.safeParse(payload).success;
        if (valid) {
          expect(reply).toEqual({ ok: true, result: null });
          expect(received).toHaveLength(1);
        } else {
          expect(reply).toMatchObject({
            ok: false,
            error: { code: "bad_request", message: expect.stringContaining(channel) },
          });
          expect(received).toEqual([]);
        }
      }),
      { numRuns: 1500 },
    );
  });

  it("answers unknown_channel for every name outside the contract", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.anything()), anyPayload, async (channel, payload) => {
        fc.pre(!(channels as unknown[]).includes(channel));
        const { dispatch, received } = recordingDispatcher();
        expect(await dispatch(channel, payload)).toMatchObject({
          ok: false,
          error: { code: "unknown_channel" },
        });
        expect(received).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });
});
