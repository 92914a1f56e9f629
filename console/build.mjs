// Builds the console into dist/: one JavaScript bundle and one style
// sheet with content-hashed names, and index.html naming them. dist/ is
// committed and embedded in the server binary; CI rebuilds it and fails
// when the committed files differ (so the build must be deterministic:
// no timestamps, no absolute paths).
import { build } from "esbuild";
import { copyFileSync, readFileSync, rmSync, mkdirSync, writeFileSync } from "node:fs";
import { basename } from "node:path";

const dist = new URL("./dist/", import.meta.url).pathname;
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const result = await build({
  entryPoints: { console: "src/main.ts", style: "src/style.css" },
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2022", "chrome110", "firefox115", "safari16"],
  outdir: dist,
  entryNames: "[name]-[hash]",
  metafile: true,
  legalComments: "none",
  charset: "utf8",
  logLevel: "warning",
});

const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const script = outputs.find((f) => f.endsWith(".js"));
const style = outputs.find((f) => f.endsWith(".css"));
if (!script || !style) throw new Error(`unexpected outputs: ${outputs.join(", ")}`);
const html = readFileSync("src/index.html", "utf8")
  .replace("{{script}}", script)
  .replace("{{style}}", style);
writeFileSync(`${dist}index.html`, html);
copyFileSync("src/favicon.svg", `${dist}favicon.svg`);
const size = readFileSync(`${dist}${script}`).length;
console.log(`dist/${script} ${size} bytes, dist/${style}, dist/index.html`);
