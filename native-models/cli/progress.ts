// Import progress on stderr: one line per stage change, at most every 5% within a stage.
export function progressPrinter(): (stage: string, progress: number) => void {
  let lastStage = "";
  let lastShown = -1;
  return (stage, progress) => {
    const pct = Math.floor(progress * 100);
    if (stage === lastStage && pct < lastShown + 5 && pct < 100) return;
    lastStage = stage;
    lastShown = pct;
    process.stderr.write(`[${stage}] ${pct}%\n`);
  };
}
