// Exitlane's icon, drawn in code (no image files downloaded or hand-edited): a rounded indigo
// square with three "layers", the middle one leaving the stack as an arrow — an early exit.
// Encoders for PNG, ICO (PNG-compressed entries) and ICNS (PNG entries) are included.
import { deflateSync } from "node:zlib";

type Rgba = [number, number, number, number];

const TOP_LEFT: Rgba = [99, 102, 241, 255]; // indigo
const BOTTOM_RIGHT: Rgba = [124, 58, 237, 255]; // violet

function roundedRect(
  x: number,
  y: number,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  r: number,
): boolean {
  const cx = Math.max(x0 + r, Math.min(x, x1 - r));
  const cy = Math.max(y0 + r, Math.min(y, y1 - r));
  return x >= x0 && x <= x1 && y >= y0 && y <= y1 && (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}

function triangle(
  x: number,
  y: number,
  ax: number,
  ay: number,
  bx: number,
  by: number,
  cx: number,
  cy: number,
): boolean {
  const side = (px: number, py: number, qx: number, qy: number) =>
    (qx - px) * (y - py) - (qy - py) * (x - px);
  const d1 = side(ax, ay, bx, by);
  const d2 = side(bx, by, cx, cy);
  const d3 = side(cx, cy, ax, ay);
  return (d1 >= 0 && d2 >= 0 && d3 >= 0) || (d1 <= 0 && d2 <= 0 && d3 <= 0);
}

/** The colour at a point of the unit square (0..1 on both axes). */
function sample(x: number, y: number): Rgba {
  const margin = 0.0625;
  if (!roundedRect(x, y, margin, margin, 1 - margin, 1 - margin, 0.2)) return [0, 0, 0, 0];
  const t = Math.min(1, Math.max(0, (x + y - 2 * margin) / (2 - 4 * margin)));
  const bg = TOP_LEFT.map((c, i) => c + (BOTTOM_RIGHT[i] - c) * t) as Rgba;
  const bar = (y0: number) => roundedRect(x, y, 0.24, y0, 0.6, y0 + 0.1, 0.05);
  let white = 0;
  if (bar(0.29) || bar(0.61)) white = 0.55;
  if (roundedRect(x, y, 0.24, 0.45, 0.66, 0.55, 0.05) || triangle(x, y, 0.62, 0.36, 0.62, 0.64, 0.8, 0.5))
    white = 1;
  return [bg[0] + (255 - bg[0]) * white, bg[1] + (255 - bg[1]) * white, bg[2] + (255 - bg[2]) * white, 255];
}

/** RGBA pixels, anti-aliased by 4x4 supersampling. */
export function renderIcon(size: number): Uint8Array {
  const pixels = new Uint8Array(size * size * 4);
  const n = 4;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      const sum = [0, 0, 0, 0];
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const [r, g, b, a] = sample((px + (sx + 0.5) / n) / size, (py + (sy + 0.5) / n) / size);
          // Premultiplied, so edges blend toward transparent rather than toward black.
          sum[0] += (r * a) / 255;
          sum[1] += (g * a) / 255;
          sum[2] += (b * a) / 255;
          sum[3] += a;
        }
      }
      const alpha = sum[3] / (n * n);
      const o = (py * size + px) * 4;
      pixels[o + 3] = Math.round(alpha);
      for (let c = 0; c < 3; c++)
        pixels[o + c] = alpha > 0 ? Math.round((sum[c] / (n * n)) * (255 / alpha)) : 0;
    }
  }
  return pixels;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "ascii");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

export function encodePng(size: number, rgba: Uint8Array): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // RGBA
  const rows = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    rows[y * (size * 4 + 1)] = 0; // no filter
    Buffer.from(rgba.buffer, rgba.byteOffset + y * size * 4, size * 4).copy(rows, y * (size * 4 + 1) + 1);
  }
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([
    signature,
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(rows, { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** Windows .ico holding PNG images (sizes up to 256). */
export function encodeIco(images: Array<{ size: number; png: Buffer }>): Buffer {
  const header = Buffer.alloc(6);
  header.writeUInt16LE(1, 2); // type: icon
  header.writeUInt16LE(images.length, 4);
  let offset = 6 + 16 * images.length;
  const entries = images.map(({ size, png }) => {
    const entry = Buffer.alloc(16);
    entry[0] = size >= 256 ? 0 : size;
    entry[1] = size >= 256 ? 0 : size;
    entry.writeUInt16LE(1, 4); // colour planes
    entry.writeUInt16LE(32, 6); // bits per pixel
    entry.writeUInt32LE(png.length, 8);
    entry.writeUInt32LE(offset, 12);
    offset += png.length;
    return entry;
  });
  return Buffer.concat([header, ...entries, ...images.map((i) => i.png)]);
}

/** The ICNS types that hold PNG data, by pixel size. */
export const ICNS_TYPES: Record<number, string> = {
  16: "icp4",
  32: "icp5",
  64: "icp6",
  128: "ic07",
  256: "ic08",
  512: "ic09",
  1024: "ic10",
};

export function encodeIcns(images: Array<{ size: number; png: Buffer }>): Buffer {
  const parts = images.map(({ size, png }) => {
    const head = Buffer.alloc(8);
    head.write(ICNS_TYPES[size], 0, "ascii");
    head.writeUInt32BE(png.length + 8, 4);
    return Buffer.concat([head, png]);
  });
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(8);
  head.write("icns", 0, "ascii");
  head.writeUInt32BE(body.length + 8, 4);
  return Buffer.concat([head, body]);
}
