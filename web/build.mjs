// Bundles src/main.ts into dist/app.js (esbuild: strips types, no type checking) and
// copies the static files from public/ into dist/.
import { build } from "esbuild";
import { cpSync, mkdirSync, rmSync } from "node:fs";

rmSync("dist", { recursive: true, force: true });
mkdirSync("dist", { recursive: true });
await build({
  entryPoints: ["src/main.ts"],
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  outfile: "dist/app.js",
  logLevel: "warning",
});
cpSync("public", "dist", { recursive: true });
