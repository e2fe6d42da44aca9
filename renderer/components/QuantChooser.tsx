import { useId } from "react";
import type { Quant } from "../../electron/contract";
import { useActions, useApp } from "../state/context";

/** The choices, in order of size; "" is the engine's own default (engine/import-model.ts). */
const options: { value: Quant | ""; label: string }[] = [
  { value: "", label: "Automatic: int8 under 1B parameters, int4 above" },
  { value: "int4", label: "int4: smallest, least exact" },
  { value: "int8", label: "int8: larger, closer to the original" },
  { value: "f16", label: "f16: largest, as exact as the file" },
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
