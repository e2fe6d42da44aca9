import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { root } from "./build.js";
import { encodePng, renderIcon } from "./icons.js";

const asset = (name: string) => readFileSync(path.join(root, "assets", name));
const pngSize = (png: Buffer) => [png.readUInt32BE(16), png.readUInt32BE(20)];
const PNG_SIGNATURE = "89504e470d0a1a0a";

describe("app icons", () => {
  it("are valid PNG, ICO and ICNS files with the sizes installers need", () => {
    const png = asset("icon.png");
    expect(png.subarray(0, 8).toString("hex")).toBe(PNG_SIGNATURE);
    expect(pngSize(png)).toEqual([1024, 1024]);
    expect(pngSize(asset("icons/512x512.png"))).toEqual([512, 512]);

    const ico = asset("icon.ico");
    expect([ico.readUInt16LE(0), ico.readUInt16LE(2)]).toEqual([0, 1]);
    const count = ico.readUInt16LE(4);
    const sizes = Array.from({ length: count }, (_, i) => ico[6 + 16 * i] || 256);
    expect(sizes).toContain(256);
    const last = 6 + 16 * (count - 1);
    expect(ico.subarray(ico.readUInt32LE(last + 12), ico.readUInt32LE(last + 12) + 8).toString("hex")).toBe(
      PNG_SIGNATURE,
    );

    const icns = asset("icon.icns");
    expect(icns.subarray(0, 4).toString("ascii")).toBe("icns");
    expect(icns.readUInt32BE(4)).toBe(icns.length);
    expect(icns.includes(Buffer.from("ic10"))).toBe(true);
  });

  it("are transparent outside the rounded square and opaque inside", () => {
    const size = 64;
    const pixels = renderIcon(size);
    const alpha = (x: number, y: number) => pixels[(y * size + x) * 4 + 3];
    expect(alpha(0, 0)).toBe(0);
    expect(alpha(32, 32)).toBe(255);
    expect(encodePng(size, pixels).subarray(0, 8).toString("hex")).toBe(PNG_SIGNATURE);
  });
});
