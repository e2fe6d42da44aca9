// An import cancelled while the converter reads ahead must end with "cancelled" and nothing else:
// a read left behind fails once the source is closed, and an unhandled rejection of it would end
// the engine host (the app's next import then met "the engine crashed").
import { afterAll, afterEach, expect, it } from "vitest";
import { CancelledError } from "../formats/cancel.js";
import { makeTempDir } from "../test-support/temp-files.js";
import { tinyGguf, tinyModel } from "../test-support/tiny-models.js";
import { importModel } from "./import-model.js";

const tmp = makeTempDir("exitlane-import-cancel-");
afterAll(() => tmp.cleanup());
const unhandled: unknown[] = [];
const record = (reason: unknown) => unhandled.push(reason);
process.on("unhandledRejection", record);
afterEach(() => {
  unhandled.length = 0;
});
afterAll(() => {
  process.off("unhandledRejection", record);
});

it.each([
  ["the native kernels' form", undefined],
  ["onnxruntime's graphs", false],
] as const)("cancelled as its layers start (%s): cancelled, no stray failure", async (_, native) => {
  // A float file: its layers are laid out at import (a quantized GGUF would be kept as it is).
  const file = tmp.write(
    `tiny-${String(native)}.gguf`,
    tinyGguf(tinyModel({ seed: 5, hidden: 256, ff: 1024, layers: 2 })).bytes,
  );
  const controller = new AbortController();
  const importing = importModel(file, {
    modelsDir: tmp.dir,
    quant: "int8",
    ...(native === undefined ? {} : { native }),
    signal: controller.signal,
    onPlan: () => controller.abort(),
  });
  await expect(importing).rejects.toBeInstanceOf(CancelledError);
  // The read ahead fails a little later, when it reaches the closed source.
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(unhandled).toEqual([]);
});
