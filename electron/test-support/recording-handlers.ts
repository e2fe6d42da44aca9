// Handlers for every contract channel that only record what reached them (dispatcher tests).
import { channels, type Channel } from "../contract.js";
import type { Handlers } from "../dispatch.js";

export function recordingHandlers() {
  const received: Array<{ channel: Channel; payload: unknown }> = [];
  const handlers = Object.fromEntries(
    channels.map((channel) => [
      channel,
      async (payload: unknown) => {
        received.push({ channel, payload });
        return null;
      },
    ]),
  ) as unknown as Handlers;
  return { handlers, received };
}
