// Browser test of the evaluation report: runs `kantu eval compare` on two tiny models over
// the shared photos, opens report.html in Debian's Chromium (playwright-core, no browser
// download) and checks what a reader sees: the table, the quality-versus-speed bubbles
// (one per model, area growing with peak memory), the gallery (every image decoded as a
// thumbnail, its references and each model's caption), and that no chart label is cut at
// the chart's edge. Saves a full-page screenshot. Usage:
//   node tests/report_test.mjs --kantu PATH --testdata DIR --out DIR
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const CHROMIUM = "/usr/bin/chromium";

function arg(name) {
  const i = process.argv.indexOf(name);
  if (i < 0 || i + 1 >= process.argv.length) throw new Error(`missing ${name}`);
  return process.argv[i + 1];
}

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
  console.log(`ok - ${what}`);
}

if (!existsSync(CHROMIUM)) {
  console.error(`report test NOT RUN: ${CHROMIUM} is missing (Debian package 'chromium'; scripts/setup installs it)`);
  process.exit(1);
}

const kantu = arg("--kantu");
// KANTU_TESTDATA wins over the build-time default, as for every other test.
const testdata = process.env.KANTU_TESTDATA || arg("--testdata");
const outDir = arg("--out");
mkdirSync(outDir, { recursive: true });
const work = mkdtempSync(join(tmpdir(), "kantu-report-"));
const userDataDir = mkdtempSync(join(tmpdir(), "kantu-chromium-"));
let context;
let failed = false;
try {
  const models = ["qwen3vl-tiny-a", "llava15-tiny-a"];
  const args = ["eval", "compare", "--annotations", join(testdata, "images/photos/captions.json"),
    "--images", join(testdata, "images/photos"), "--out", work, "--limit", "3", "--max-tokens", "8",
    "--threads", "2"];
  for (const m of models) args.push("--model", join(testdata, "models", m));
  const run = spawnSync(kantu, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  check(run.status === 0, `kantu eval compare finished (exit ${run.status})`);
  check(models.every((m) => run.stdout.includes(`| ${m} (local)`)), "the Markdown table names both models");

  const { chromium } = await import("playwright-core");
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1000, height: 800 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("requestfailed", (r) => errors.push(`request failed: ${r.url()}`));
  await page.goto(pathToFileURL(join(work, "report.html")).href);

  check((await page.$$("table tr")).length >= 3, "comparison table with a row per model");
  const bubbles = await page.$$eval("#quality-speed circle.bubble", (cs) =>
    cs.map((c) => ({ r: Number(c.getAttribute("r")), title: c.textContent })));
  check(bubbles.length === 2, "one bubble per model in the quality-versus-speed chart");
  check(bubbles.every((b) => b.r > 0 && /MiB/.test(b.title)), "bubbles sized by a measured peak memory");
  const items = await page.$$eval(".gallery .item", (fs) =>
    fs.map((f) => ({
      loaded: f.querySelector("img")?.complete && f.querySelector("img")?.naturalWidth > 0,
      refs: f.querySelectorAll(".refs li").length,
      captions: f.querySelectorAll(".captions tr").length,
    })));
  check(items.length === 3, "a gallery entry per captioned image");
  check(items.every((i) => i.loaded), "every thumbnail decodes");
  check(items.every((i) => i.refs >= 1 && i.captions === 2), "references and both models' captions beside each image");
  // Every label of every chart lies inside its chart (the histogram's last tick was cut).
  const outside = await page.$$eval("svg", (svgs) => {
    const bad = [];
    for (const svg of svgs) {
      const box = svg.getBoundingClientRect();
      for (const t of svg.querySelectorAll("text")) {
        const r = t.getBoundingClientRect();
        if (r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5)
          bad.push(`${svg.getAttribute("aria-label")}: "${t.textContent}"`);
      }
    }
    return bad;
  });
  check(outside.length === 0, `no chart label outside its chart ${outside.join("; ")}`);
  // Models of similar latency and score must not print their names over each other.
  const overlapping = await page.$$eval("#quality-speed text.label", (ts) => {
    const boxes = ts.map((t) => ({ name: t.textContent, r: t.getBoundingClientRect() }));
    const bad = [];
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i].r, b = boxes[j].r;
        if (a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5)
          bad.push(`${boxes[i].name} / ${boxes[j].name}`);
      }
    return bad;
  });
  check(overlapping.length === 0, `no two model names overlap in the quality-versus-speed chart ${overlapping.join("; ")}`);
  check(errors.length === 0, `no page errors ${errors.join("; ")}`);
  await page.screenshot({ path: join(outDir, "eval_report.png"), fullPage: true });
  check(true, `screenshot saved to ${join(outDir, "eval_report.png")}`);
} catch (e) {
  failed = true;
  console.error(`FAILED: ${e.message}`);
} finally {
  if (context) await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
