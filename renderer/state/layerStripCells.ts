// The layer strip's layout: short answers get one cell per token in a single row; longer ones
// wrap into rows of ROW_CELLS, and beyond MAX_ROWS rows neighbouring tokens share a cell (its
// colour is their mean exit layer), so a 500-token answer stays readable and a 5000-token one
// stays a few rows tall.

export const ROW_CELLS = 80;
export const MAX_ROWS = 8;

export interface StripCell {
  /** First token (0-based) and how many tokens the cell stands for. */
  start: number;
  count: number;
  /** The token's exit layer, or the mean over the cell's tokens. */
  layer: number;
}

export function stripCells(exitLayers: readonly number[]): StripCell[][] {
  const n = exitLayers.length;
  const perCell = Math.max(1, Math.ceil(n / (ROW_CELLS * MAX_ROWS)));
  const cells: StripCell[] = [];
  for (let start = 0; start < n; start += perCell) {
    const count = Math.min(perCell, n - start);
    let sum = 0;
    for (let i = start; i < start + count; i++) sum += exitLayers[i];
    cells.push({ start, count, layer: sum / count });
  }
  const rows: StripCell[][] = [];
  for (let i = 0; i < cells.length; i += ROW_CELLS) rows.push(cells.slice(i, i + ROW_CELLS));
  return rows;
}
