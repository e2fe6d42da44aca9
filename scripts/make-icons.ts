// `npm run icons`: writes assets/icon.png (1024), assets/icons/NxN.png (Linux), assets/icon.ico
// (Windows) and assets/icon.icns (macOS) from the drawing in icons.ts.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ICNS_TYPES, encodeIcns, encodeIco, encodePng, renderIcon } from "./icons.js";

const assets = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../assets");
const sizes = [16, 24, 32, 48, 64, 128, 256, 512, 1024];
const pngs = new Map(sizes.map((size) => [size, encodePng(size, renderIcon(size))]));
const png = (size: number) => pngs.get(size)!;

mkdirSync(path.join(assets, "icons"), { recursive: true });
writeFileSync(path.join(assets, "icon.png"), png(1024));
for (const size of [16, 32, 48, 64, 128, 256, 512])
  writeFileSync(path.join(assets, "icons", `${size}x${size}.png`), png(size));
writeFileSync(
  path.join(assets, "icon.ico"),
  encodeIco([16, 24, 32, 48, 64, 128, 256].map((size) => ({ size, png: png(size) }))),
);
writeFileSync(
  path.join(assets, "icon.icns"),
  encodeIcns(
    Object.keys(ICNS_TYPES)
      .map(Number)
      .map((size) => ({ size, png: png(size) })),
  ),
);
console.log(`icons written to ${assets}`);
