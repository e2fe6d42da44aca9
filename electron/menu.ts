// The application menu. Shortcuts the renderer handles itself (new chat, search, settings, stop)
// are shown but not registered here, so the key press still reaches the page; choosing the item
// sends an `app.command` event instead.
import type { MenuItemConstructorOptions } from "electron";
import type { EventOf } from "./contract.js";

type Command = EventOf<"app.command">["command"];

export function menuTemplate(
  platform: NodeJS.Platform,
  run: (command: Command) => void,
): MenuItemConstructorOptions[] {
  const item = (label: string, accelerator: string, command: Command): MenuItemConstructorOptions => ({
    label,
    accelerator,
    registerAccelerator: false,
    click: () => run(command),
  });
  const mac = platform === "darwin";
  return [
    ...(mac ? [{ role: "appMenu" as const }] : []),
    {
      label: "&File",
      submenu: [
        item("New Chat", "CmdOrCtrl+N", "newChat"),
        { label: "Import Model…", click: () => run("import") },
        { type: "separator" },
        item("Settings", "CmdOrCtrl+,", "settings"),
        { type: "separator" },
        mac ? { role: "close" } : { role: "quit" },
      ],
    },
    { role: "editMenu" },
    {
      label: "&Chat",
      submenu: [item("Search Conversations", "CmdOrCtrl+K", "search"), item("Stop Answer", "Escape", "stop")],
    },
    {
      label: "&View",
      submenu: [
        { role: "reload" },
        { role: "toggleDevTools" },
        { type: "separator" },
        { role: "resetZoom" },
        { role: "zoomIn" },
        { role: "zoomOut" },
        { type: "separator" },
        { role: "togglefullscreen" },
      ],
    },
    { role: "windowMenu" },
  ];
}
