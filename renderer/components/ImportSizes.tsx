import type { ImportJob, Quant } from "../../electron/contract";
import { useActions, useApp } from "../state/context";
import { formatBytes } from "../state/format";
import { describeSourceBlocks } from "../state/sourceBlocks";

/** The choices the Models header offers, in the order the card lists them. */
const choices = ["int4", "int8", "f16"] as const;

/**
 * What the import will make, once its source's header is read: the package size at the chosen
 * quantization, and while it still converts, the other choices with their sizes, each of which
 * starts the import again at that quantization (the partial package is removed).
 */
export function ImportSizes({ job }: { job: ImportJob & { plan: NonNullable<ImportJob["plan"]> } }) {
  const actions = useActions();
  const switchingTo = useApp((s) => s.switchingJobs[job.jobId]);
  const { quant, sizes, blocks } = job.plan;
  const chosen = (choices as readonly Quant[]).includes(quant)
    ? sizes[quant as (typeof choices)[number]]
    : null;
  const others = choices.filter((q) => q !== quant);
  return (
    <div className="import-sizes small" data-testid="import-sizes">
      <p className="muted" data-testid="import-size">
        {quant}
        {chosen !== null && <> · {formatBytes(chosen)} on disk</>}
      </p>
      {blocks && (
        <p className="muted" data-testid="import-blocks">
          {describeSourceBlocks(blocks, quant)}
        </p>
      )}
      {job.state === "running" &&
        (switchingTo ? (
          <p className="muted" role="status">
            Starting again as {switchingTo}…
          </p>
        ) : (
          <div className="model-actions">
            {others.map((q) => (
              <button
                key={q}
                type="button"
                className="btn btn-quiet"
                onClick={() => void actions.restartImport(job.jobId, q)}
              >
                Import as {q} instead — {formatBytes(sizes[q])}
              </button>
            ))}
          </div>
        ))}
    </div>
  );
}
