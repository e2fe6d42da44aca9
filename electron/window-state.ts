// The main window's size and position, remembered in a small JSON file in the user-data folder.
// A saved position that no longer lies on any screen (a monitor was unplugged) is dropped.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

const WindowState = z.object({
  x: z.number().int().optional(),
  y: z.number().int().optional(),
  width: z.number().int().min(400).max(20_000),
  height: z.number().int().min(300).max(20_000),
  maximized: z.boolean(),
});
export type WindowState = z.infer<typeof WindowState>;

export const DEFAULT_WINDOW_STATE: WindowState = { width: 1280, height: 840, maximized: false };

/** `workAreas`: the usable area of each display now attached. */
export function loadWindowState(file: string, workAreas: Rect[]): WindowState {
  let state: WindowState;
  try {
    state = WindowState.parse(JSON.parse(readFileSync(file, "utf8")));
  } catch {
    return { ...DEFAULT_WINDOW_STATE };
  }
  if (state.x === undefined || state.y === undefined) return state;
  const visible = workAreas.some(
    (area) =>
      overlap(area, state as Rect) >= 0.5 * Math.min(state.width * state.height, area.width * area.height),
  );
  if (!visible) return { width: state.width, height: state.height, maximized: state.maximized };
  return state;
}

export function saveWindowState(file: string, state: WindowState): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.tmp`;
  writeFileSync(temp, JSON.stringify(WindowState.parse(state)));
  renameSync(temp, file);
}

function overlap(a: Rect, b: Rect): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}
