import { expect } from "vitest";
import { ModelFormatError } from "../formats/errors.js";

/** Awaits a promise that must reject with a ModelFormatError, and returns that error. */
export async function failure(p: Promise<unknown>): Promise<ModelFormatError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ModelFormatError);
  return e as ModelFormatError;
}
