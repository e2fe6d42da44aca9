// Where the app keeps its data when nobody says otherwise: the same folder Electron's
// app.getPath("userData") gives for an app named Exitlane, so the CLI and the app share models.
import os from "node:os";
import path from "node:path";

export const APP_NAME = "Exitlane";

export function defaultUserDataDir(): string {
  const home = os.homedir();
  switch (process.platform) {
    case "win32":
      return path.join(process.env.APPDATA ?? path.join(home, "AppData", "Roaming"), APP_NAME);
    case "darwin":
      return path.join(home, "Library", "Application Support", APP_NAME);
    default:
      return path.join(process.env.XDG_CONFIG_HOME ?? path.join(home, ".config"), APP_NAME);
  }
}

export function defaultModelsDir(): string {
  return process.env.EXITLANE_MODELS_DIR || path.join(defaultUserDataDir(), "models");
}
