// Where Exitlane keeps its data when Electron is not there to say (the web host and CLI):
// the same folder Electron's app.getPath("userData") gives the desktop app.
import os from "node:os";
import path from "node:path";

export const PRODUCT_NAME = "Exitlane";

export function defaultUserDataDir(
  platform = process.platform,
  env = process.env,
  home = os.homedir(),
): string {
  if (platform === "win32")
    return path.join(env.APPDATA ?? path.join(home, "AppData", "Roaming"), PRODUCT_NAME);
  if (platform === "darwin") return path.join(home, "Library", "Application Support", PRODUCT_NAME);
  return path.join(env.XDG_CONFIG_HOME ?? path.join(home, ".config"), PRODUCT_NAME);
}
