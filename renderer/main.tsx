import "./zodConfig";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
// highlight.js themes (the library's own CSS), one per colour scheme; their <link> media follows the theme.
import hljsDarkUrl from "highlight.js/styles/github-dark.css?url";
import hljsLightUrl from "highlight.js/styles/github.css?url";
import { createApi } from "./api/createApi";
import { App } from "./App";
import { AppProvider } from "./state/context";
import { createAppStore } from "./state/store";
import { applyTheme, rememberedTheme } from "./state/theme";
import "./styles/app.css";

function codeThemeLinks() {
  const make = (href: string, scheme: "light" | "dark") => {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = href;
    link.dataset.scheme = scheme;
    document.head.appendChild(link);
    return link;
  };
  const light = make(hljsLightUrl, "light");
  const dark = make(hljsDarkUrl, "dark");
  // Apply the theme that matches <html data-theme>, and follow its changes. (The media attribute is
  // reliable where toggling `disabled` on a stylesheet that is still loading is not.)
  const sync = () => {
    const isDark = document.documentElement.dataset.theme === "dark";
    light.media = isDark ? "not all" : "all";
    dark.media = isDark ? "all" : "not all";
  };
  sync();
  new MutationObserver(sync).observe(document.documentElement, {
    attributes: true,
    attributeFilter: ["data-theme"],
  });
}

let storage: Storage | undefined;
try {
  storage = window.localStorage;
} catch {
  storage = undefined;
}
applyTheme(rememberedTheme(storage));
codeThemeLinks();

const api = createApi();
const store = createAppStore(api);
createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <AppProvider store={store} api={api}>
      <App />
    </AppProvider>
  </StrictMode>,
);
void store.getState().init();
