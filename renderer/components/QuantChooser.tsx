import { useId } from "react";
import type { Quant } from "../../electron/contract";
import { useActions, useApp } from "../state/context";

/**
 * The choices; "" is the engine's own default (engine/import-model.ts). The labels do not rank
 * sizes: integer packages also hold the native kernels' copy, so int8 can outgrow f16 on disk
 * (kjv16: 23.4 MB against 15.9 MB). The import card shows each choice's size for the file at hand.
 */
const options: { value: Quant | ""; label: string }[] = [
  { value: "", label: "Automatic: int8 under 1B parameters, int4 above" },
  { value: "int4", label: "int4: smallest, least exact" },
  { value: "int8", label: "int8: closer to the original" },
  { value: "f16", label: "f16: as exact as the file" },
];

/** The quantization the next imports (buttons, drops anywhere on the window) ask the engine for. */
export function QuantChooser() {
  const quant = useApp((s) => s.importQuant);
  const actions = useActions();
  const id = useId();
  return (
    <div className="quant-chooser">
      <label htmlFor={id} className="small muted">
        Quantization for imports
      </label>
      <select
        id={id}
        value={quant ?? ""}
        onChange={(e) => actions.setImportQuant((e.target.value || null) as Quant | null)}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );
}
