import { useEffect, useRef, useState } from "react";
import { useActions } from "../state/context";
import { collectDropGroups, dragHasFiles } from "../state/dropFiles";
import { Icon } from "./Icon";

/**
 * Import by drag and drop anywhere on the window: a full-window overlay appears while files are
 * dragged over it; dropping a GGUF file or a Hugging Face folder starts an import and shows the
 * Models view with its progress card. Drops elsewhere never navigate the window to the file.
 */
export function DropOverlay() {
  const actions = useActions();
  const [active, setActive] = useState(false);
  const depth = useRef(0);

  useEffect(() => {
    const onEnter = (e: DragEvent) => {
      if (!dragHasFiles(e.dataTransfer)) return;
      e.preventDefault();
      depth.current++;
      setActive(true);
    };
    const onOver = (e: DragEvent) => {
      if (!dragHasFiles(e.dataTransfer)) return;
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = "copy";
    };
    const onLeave = (e: DragEvent) => {
      if (!dragHasFiles(e.dataTransfer)) return;
      depth.current = Math.max(0, depth.current - 1);
      if (depth.current === 0) setActive(false);
    };
    const onDrop = (e: DragEvent) => {
      depth.current = 0;
      setActive(false);
      const dt = e.dataTransfer;
      if (!dt || !dragHasFiles(dt)) return;
      e.preventDefault();
      // collectDropGroups reads the entries synchronously before its first await, as it must.
      const pending = collectDropGroups(dt);
      actions.setView("models");
      void pending.then(
        (groups) => actions.importGroups(groups),
        (err) =>
          actions.toast(
            "error",
            `The dropped items could not be read: ${err instanceof Error ? err.message : String(err)}`,
          ),
      );
    };
    window.addEventListener("dragenter", onEnter);
    window.addEventListener("dragover", onOver);
    window.addEventListener("dragleave", onLeave);
    window.addEventListener("drop", onDrop);
    return () => {
      window.removeEventListener("dragenter", onEnter);
      window.removeEventListener("dragover", onOver);
      window.removeEventListener("dragleave", onLeave);
      window.removeEventListener("drop", onDrop);
    };
  }, [actions]);

  if (!active) return null;
  return (
    <div className="drop-overlay" data-testid="drop-overlay" aria-hidden="true">
      <div className="drop-target">
        <Icon name="upload" size={36} />
        <p className="drop-title">Drop to import</p>
        <p className="muted">A GGUF file, or a Hugging Face model folder</p>
      </div>
    </div>
  );
}
