import { useId, useRef, type KeyboardEvent } from "react";
import { shortcutList, type KeyHost } from "../state/shortcuts";
import { useDialogFocus } from "./useDialogFocus";

/** The list of every keyboard shortcut, as a modal dialog: Esc or the button closes it. */
export function ShortcutsPanel({ host, onClose }: { host: KeyHost; onClose(): void }) {
  const titleId = useId();
  const closeRef = useRef<HTMLButtonElement>(null);
  useDialogFocus(closeRef);
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === "Escape") {
      e.stopPropagation();
      e.preventDefault();
      onClose();
    } else if (e.key === "Tab") {
      e.preventDefault(); // one control: focus stays on it
    }
  };
  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div
        className="modal shortcuts-panel"
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        onKeyDown={onKeyDown}
        data-testid="shortcuts-panel"
      >
        <h2 id={titleId}>Keyboard shortcuts</h2>
        <table className="shortcut-table">
          <tbody>
            {shortcutList(host).map((row) => (
              <tr key={row.does}>
                <td>
                  <kbd>{row.keys}</kbd>
                </td>
                <td>{row.does}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <div className="modal-actions">
          <button ref={closeRef} type="button" className="btn" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
    </div>
  );
}
