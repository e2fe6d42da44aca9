import { defineConfig } from "vitest/config";

// Unit and integration tests sit next to the code they test. e2e/ runs under its own runner.
export default defineConfig({
  test: {
    include: [
      "electron/**/*.test.ts",
      "native-models/**/*.test.ts",
      "renderer/**/*.test.{ts,tsx}",
      "scripts/**/*.test.ts",
      "tools/**/*.test.ts",
      "wire/**/*.test.ts",
    ],
    environment: "node",
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
  },
});
