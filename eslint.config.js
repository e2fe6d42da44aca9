import js from "@eslint/js";
import tseslint from "typescript-eslint";
import reactHooks from "eslint-plugin-react-hooks";

export default tseslint.config(
  // .tmp/ and *.tmp.* are local scratch files (git-ignored), never part of the project.
  { ignores: ["dist/**", "release/**", "node_modules/**", "e2e/artifacts/**", "native-models/sparse/addon/build/**", ".tmp/**", "**/*.tmp.*"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.{ts,tsx}"],
    plugins: { "react-hooks": reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "react-hooks/set-state-in-effect": "off",
    },
  },
  {
    // Plain JavaScript files are Node scripts (build helpers, tools).
    files: ["**/*.{js,mjs,cjs}"],
    languageOptions: {
      globals: Object.fromEntries(
        ["process", "console", "Buffer", "URL", "require", "module", "__dirname", "__filename", "setTimeout", "clearTimeout",
          "setInterval", "clearInterval", "setImmediate", "queueMicrotask", "structuredClone", "TextEncoder", "TextDecoder",
          "AbortController", "performance", "fetch"].map((name) => [name, "readonly"]),
      ),
    },
  },
  {
    // The engine must run under plain Node: no Electron or React anywhere in it.
    files: ["native-models/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { paths: ["electron", "react", "react-dom"], patterns: ["**/renderer/**", "**/electron/**"] }],
    },
  },
  {
    // The renderer only knows the typed contract.
    files: ["renderer/**/*.{ts,tsx}"],
    rules: {
      "no-restricted-imports": ["error", { paths: ["electron", "fs", "node:fs", "child_process", "node:child_process"], patterns: ["**/native-models/**"] }],
    },
  },
);
