// The engine's command-line commands and the loop that runs one (the entry points are
// native-models/cli.ts and, with the back end's commands added, electron/cli.ts).
import { ModelFormatError } from "../formats/errors.js";
import { UsageError } from "./args.js";
import { importCommand } from "./import.js";
import { generateCommand } from "./generate.js";
import { evalCommand } from "./eval.js";
import { tokenizeCommand } from "./tokenize.js";
import { benchCommand } from "./bench.js";
import { calibrateCommand } from "./calibrate.js";
import { loadNativeKernels } from "../kernels/index.js";

export const ENGINE_USAGE = `  import <file-or-folder> [--tokenizer <file>] [--name <name>] [--quant int4|int8|f16|f32] [--calibrate] [--models-dir <dir>] [--json]
  generate --model <id-or-path> --prompt <text> [--raw] [--max-tokens N] [--temperature T] [--top-k K] [--top-p P]
           [--min-p P] [--repeat-penalty R] [--seed S] [--exit off|lossless|0..1] [--sparsity off|0..1] [--threads N] [--ctx N]
           [--models-dir <dir>] [--json]
  eval --model <id-or-path> --text <file> [--max-tokens N] [--exit off|0..1] [--sparsity off|0..1] [--json]
  calibrate --model <id-or-path> [--text <file>] [--tokens-per-prompt N] [--json]
  tokenize <gguf-file-or-model-folder> --text <string> [--json]
  bench --gguf <file> [--threads N] [--prompt-tokens 128] [--gen-tokens 128] [--runs 3] [--quant int4] [--exit K] [--lossless]
        [--calibrate] [--exit-at K [--kv masked|deferred] [--project-from <calibrated model id>]] [--sparsity S] [--skip-llama]
        [--quality] [--app-host dist/engine/host.cjs] [--json]
        [--grammar [--seeds 3]]   (only: constrained decoding's per-token mask cost against this model's decode step)`;

const MODELS_DIR_NOTE = `Models live in the app's user-data "models" folder unless --models-dir or EXITLANE_MODELS_DIR says otherwise.`;

export type Command = (argv: string[]) => Promise<void>;

/** The engine's own commands (the back end adds more: see electron/cli.ts). */
export const engineCommands: Record<string, Command> = {
  import: importCommand,
  generate: generateCommand,
  eval: evalCommand,
  tokenize: tokenizeCommand,
  bench: benchCommand,
  calibrate: calibrateCommand,
};

/** Commands that run the engine in this process (serve's engine host says so in its own words). */
const RUNS_THE_ENGINE = new Set(["import", "generate", "eval", "calibrate", "bench"]);

/** One line on stderr when the native kernels do not load here: everything is then slower. */
function noteMissingKernels(): void {
  const kernels = loadNativeKernels();
  if (!kernels.available)
    process.stderr.write(
      `note: the native kernels are not available (${kernels.detail}); the engine runs on onnxruntime, several times slower\n`,
    );
}

/** Runs one command; returns the process exit status (2: usage error, 1: the command failed). */
export async function runCli(
  argv: string[],
  commands: Record<string, Command> = engineCommands,
  usageLines = ENGINE_USAGE,
): Promise<number> {
  const USAGE = `usage: exitlane <command> [flags]\n\n${usageLines}\n\n${MODELS_DIR_NOTE}`;
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "help") {
    process.stdout.write(USAGE + "\n");
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`unknown command "${name}"\n\n${USAGE}\n`);
    return 2;
  }
  try {
    if (RUNS_THE_ENGINE.has(name)) noteMissingKernels();
    await command(rest);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`error: ${err.message}\n\n${USAGE}\n`);
      return 2;
    }
    const message =
      err instanceof ModelFormatError
        ? `${err.message} [${err.code}]`
        : err instanceof Error
          ? err.message
          : String(err);
    process.stderr.write(`error: ${message}\n`);
    if (process.env.EXITLANE_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}
