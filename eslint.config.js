import js from "@eslint/js";
import tseslint from "typescript-eslint";
import reactHooks from "eslint-plugin-react-hooks";
import importX from "eslint-plugin-import-x";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";

// The engine's layers, lowest first: a folder may import only from folders before it (host and
// cli are both last and do not import each other). Tests and test helpers may import any layer.
const ENGINE_LAYERS = [
  ["formats"],
  ["tokenizer"],
  ["package"],
  ["convert"],
  ["kernels"],
  ["runtime"],
  ["early-exit"],
  ["sparse"],
  ["engine"],
  ["bench"],
  ["host", "cli"],
];
const engineLayerZones = ENGINE_LAYERS.flatMap((group, i) =>
  group.map((folder) => ({
    target: `./native-models/${folder}`,
    from: [...ENGINE_LAYERS.slice(i + 1).flat(), ...group.filter((f) => f !== folder)].map(
      (f) => `./native-models/${f}`,
    ),
    message: `the engine's layer order is ${ENGINE_LAYERS.map((g) => g.join("|")).join(" → ")} (eslint.config.js)`,
  })),
);

export default tseslint.config(
  // .tmp/ and *.tmp.* are local scratch files (git-ignored), never part of the project.
  {
    ignores: [
      "dist/**",
      "release/**",
      "node_modules/**",
      "e2e/artifacts/**",
      "native-models/kernels/addon/build/**",
      ".tmp/**",
      "**/*.tmp.*",
    ],
  },
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
        [
          "process",
          "console",
          "Buffer",
          "URL",
          "require",
          "module",
          "__dirname",
          "__filename",
          "setTimeout",
          "clearTimeout",
          "setInterval",
          "clearInterval",
          "setImmediate",
          "queueMicrotask",
          "structuredClone",
          "TextEncoder",
          "TextDecoder",
          "AbortController",
          "performance",
          "fetch",
        ].map((name) => [name, "readonly"]),
      ),
    },
  },
  {
    files: ["**/*.{ts,tsx}"],
    plugins: { "import-x": importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      "import-x/resolver-next": [createTypeScriptImportResolver({ project: "./tsconfig.json" })],
    },
    rules: { "import-x/no-cycle": ["error", { ignoreExternal: true }] },
  },
  {
    files: ["native-models/**/*.ts"],
    ignores: ["**/*.test.ts", "native-models/test-support/**", "native-models/**/testing/**"],
    plugins: { "import-x": importX },
    rules: { "import-x/no-restricted-paths": ["error", { zones: engineLayerZones }] },
  },
  {
    // The wire vocabulary is shared by the engine, the back end and the renderer: zod only.
    files: ["wire/**/*.ts"],
    ignores: ["wire/**/*.test.ts"],
    // A regex, because the gitignore-style group ["**", "!zod", "!./*"] refuses "./x.js" as well.
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { regex: "^(?!zod$|\\./[^/]+$)", message: "wire/ imports nothing but zod (and its own files)" },
          ],
        },
      ],
    },
  },
  {
    // The engine must run under plain Node: no Electron or React anywhere in it.
    files: ["native-models/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { paths: ["electron", "react", "react-dom"], patterns: ["**/renderer/**", "**/electron/**"] },
      ],
    },
  },
  {
    // The renderer only knows the typed contract.
    files: ["renderer/**/*.{ts,tsx}"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: ["electron", "fs", "node:fs", "child_process", "node:child_process"],
          patterns: ["**/native-models/**"],
        },
      ],
    },
  },
);
