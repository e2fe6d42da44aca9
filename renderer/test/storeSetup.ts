// The real store around a fake back end, started, with token frames the test runs by hand.
import { createAppStore } from "../state/store";
import { createFakeApi, manualScheduler, type FakeApi } from "./fakeApi";

export async function setupStore(
  api: FakeApi = createFakeApi({
    conversations: [
      {
        title: "First",
        messages: [
          ["user", "hello"],
          ["assistant", "Hi there friend"],
        ],
      },
    ],
  }),
) {
  const frames = manualScheduler();
  const store = createAppStore(api, { scheduler: frames.schedule, stopGraceMs: 2000 });
  await store.getState().init();
  return { api, store, frames, s: () => store.getState() };
}
