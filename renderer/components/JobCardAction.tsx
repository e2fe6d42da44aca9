import { Icon } from "./Icon";

/** The button at the top right of a job card: Cancel while it runs, Dismiss once it has ended. */
export function JobCardAction({
  running,
  kind,
  name,
  onCancel,
  onDismiss,
}: {
  running: boolean;
  kind: "import" | "download";
  name: string;
  onCancel(): void;
  onDismiss(): void;
}) {
  return running ? (
    <button
      type="button"
      className="btn btn-quiet"
      onClick={onCancel}
      aria-label={`Cancel ${kind} of ${name}`}
    >
      Cancel
    </button>
  ) : (
    <button type="button" className="icon-btn" aria-label={`Dismiss ${name}`} onClick={onDismiss}>
      <Icon name="close" size={14} />
    </button>
  );
}
