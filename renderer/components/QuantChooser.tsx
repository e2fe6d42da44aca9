import { useId } from "react";
import type { Quant } from "../../electron/contract";
import { useActions, useApp } from "../state/context";

/**
 * The choices; "" is the engine's own default (engine/import-model.ts): a quantized file keeps
 * its own blocks where the kernels hold them, a float file is quantized by its size. The labels do not rank
 * sizes: integer packages also hold the native kernels' copy, so int8 can outgrow f16 on disk
 * (kjv16: 23.4 MB against 15.9 MB). The import card shows each choice's size for the file at hand.
 */
const options: { value: Quant | ""; label: string }[] = [
  { value: "", label: "As the file is (a float file: int8 under 1B parameters, int4 above)" },
  { value: "int4", label: "int4: smallest; rounds wider blocks again" },
  { value: "int8", label: "int8: keeps Q8_0, Q5_0 and Q4_0 blocks as they are" },
  { value: "f16", label: "f16: for float files" },
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
