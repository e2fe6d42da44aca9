// The hub client against the local hub stand-in (real HTTP, the hub's API shapes): a repo's GGUF
// files with size and SHA-256, its architecture and licence, why it cannot run, and the token
// (sent to the hub only). Also the small pieces the downloader reads the hub's replies with.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haveShared, stories } from "../../../native-models/test-support/shared-fixtures.js";
import { STORIES_FILE, testRepos } from "../../test-support/download-checks.js";
import { startHubServer, type HubServer } from "../../test-support/hub-server.js";
import { shaOfEtag } from "./download-file.js";
import { listRepo } from "./hub-client.js";
import { headersFor, hubEndpoint } from "./hub-http.js";
import { RateMeter } from "./rate-meter.js";

describe.skipIf(!haveShared("models/stories260K/gguf"))("listRepo", () => {
  let hub: HubServer;
  beforeAll(async () => {
    hub = await startHubServer({
      ...testRepos(),
      "test/iq-GGUF": { files: [{ path: "m-IQ2_XXS.gguf", source: stories.ggufQ8 }], architecture: "llama" },
    });
  });
  afterAll(() => hub.close());
  const access = (token: string | null = null) => ({ endpoint: hub.url, token: () => token });

  it("lists the GGUF files with size and SHA-256, the architecture and the licence", async () => {
    const sha = createHash("sha256").update(readFileSync(stories.ggufQ8)).digest("hex");
    expect(await listRepo(access(), "test/stories-GGUF")).toEqual({
      repo: "test/stories-GGUF",
      files: [{ path: STORIES_FILE, sizeBytes: readFileSync(stories.ggufQ8).length, sha256: sha }],
      arch: "llama",
      licence: "mit",
    });
  });

  it("says why a repo cannot run: its architecture, or no file in a quantization the engine reads", async () => {
    expect((await listRepo(access(), "test/mamba-GGUF")).unsupported).toMatch(
      /cannot run mamba models: the mamba architecture is not supported/,
    );
    expect((await listRepo(access(), "test/iq-GGUF")).unsupported).toMatch(
      /None of this repo's GGUF files is in a quantization the engine reads: IQ2_XXS quantization is not supported/,
    );
  });

  it("maps 404 and 401 to their codes, and sends the token as a bearer", async () => {
    await expect(listRepo(access(), "test/none")).rejects.toMatchObject({
      code: "download",
      detail: { downloadCode: "not_found", httpStatus: 404 },
    });
    hub.faults.token = "hf_secret";
    try {
      await expect(listRepo(access(), "test/stories-GGUF")).rejects.toMatchObject({
        detail: { downloadCode: "unauthorized", httpStatus: 401 },
        message: expect.stringMatching(/needs a Hugging Face access token/),
      });
      await expect(listRepo(access("hf_secret"), "test/stories-GGUF")).resolves.toMatchObject({
        arch: "llama",
      });
    } finally {
      hub.faults.token = undefined;
    }
  });
});

describe("hub replies and requests", () => {
  it("takes the endpoint from EXITLANE_HF_ENDPOINT without a trailing slash", () => {
    expect(hubEndpoint({})).toBe("https://huggingface.co");
    expect(hubEndpoint({ EXITLANE_HF_ENDPOINT: "http://127.0.0.1:9/hub//" })).toBe("http://127.0.0.1:9/hub");
  });

  it("sends the token to the hub's origin only, never to the storage host a file redirects to", () => {
    const access = { endpoint: "https://huggingface.co", token: () => "hf_x" };
    expect(headersFor(access, new URL("https://huggingface.co/a/b/resolve/main/f.gguf"))).toEqual({
      authorization: "Bearer hf_x",
    });
    expect(headersFor(access, new URL("https://cdn-lfs.example.org/f"), { range: "bytes=5-" })).toEqual({
      range: "bytes=5-",
    });
  });

  it("reads the SHA-256 out of an ETag, quoted or weak", () => {
    const sha = "a".repeat(64);
    expect(shaOfEtag(`"${sha}"`)).toBe(sha);
    expect(shaOfEtag(`W/"${sha.toUpperCase()}"`)).toBe(sha);
    expect(shaOfEtag('"d41d8cd98f00b204"')).toBeNull();
  });

  it("measures speed over the last seconds and the time left at it", () => {
    let now = 0;
    const meter = new RateMeter(() => now);
    expect(meter.add(0)).toBe(0);
    expect(meter.eta(1000)).toBeNull();
    now = 1000;
    expect(meter.add(1_000_000)).toBe(1_000_000);
    expect(meter.eta(3_000_000)).toBe(3);
    // A stall shows within the window: the old fast samples drop out.
    for (now = 2000; now <= 8000; now += 1000) meter.add(1_000_000);
    expect(meter.rate()).toBe(0);
  });
});
