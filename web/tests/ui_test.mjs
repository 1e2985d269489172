// Browser test of the page: starts `kantu serve --fake-engine` on a free port, drives
// Debian's Chromium through playwright-core (no browser download), uploads an image,
// asks, waits for the streamed answer and checks that the grounding box is drawn.
// Saves a screenshot. Usage:
//   node tests/ui_test.mjs --kantu PATH --image DIR_OR_FILE --out DIR
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

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
  console.error("\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
  console.error(`!!! web UI test NOT RUN: ${CHROMIUM} is missing. Install Debian's 'chromium'`);
  console.error("!!! package (scripts/setup does) to test the page in a browser.");
  console.error("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n");
  process.exit(1);
}

const kantu = arg("--kantu");
let image = arg("--image");
if (statSync(image).isDirectory()) image = join(image, "img_256x256.png");
const outDir = arg("--out");
mkdirSync(outDir, { recursive: true });

// The server prints one JSON line per event on stdout.
const server = spawn(kantu, ["serve", "--fake-engine", "--port", "0", "--fake-token-delay-ms", "5"], {
  stdio: ["ignore", "pipe", "inherit"],
});
const events = [];
let waiters = [];
createInterface({ input: server.stdout }).on("line", (line) => {
  try {
    events.push(JSON.parse(line));
  } catch {
    return;
  }
  waiters.forEach((w) => w());
});
function waitEvent(name, ms = 15000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not report '${name}'`)), ms);
    const look = () => {
      const e = events.find((x) => x.event === name);
      if (e) {
        clearTimeout(timer);
        resolve(e);
      }
    };
    waiters.push(look);
    look();
  });
}
const exited = new Promise((resolve) => server.on("exit", (code, signal) => resolve({ code, signal })));

const userDataDir = mkdtempSync(join(tmpdir(), "kantu-chromium-"));
let context;
let failed = false;
try {
  const { port } = await waitEvent("listening");
  await waitEvent("ready");
  const { chromium } = await import("playwright-core");
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1100, height: 800 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("pageerror", (e) => console.error("page error:", e.message));
  await page.goto(`http://127.0.0.1:${port}/`);

  check((await page.textContent("#ask")) === "提问", "Chinese UI by default");
  check((await page.inputValue("#question")) === "请描述这张图片", "default question");
  await page.click("#lang");
  check((await page.textContent("#ask")) === "Ask", "English after the toggle");
  await page.click("#lang");
  check((await page.textContent("#ask")) === "提问", "Chinese again");

  await page.setInputFiles("#file", image);
  await page.waitForSelector("#preview[src^='data:image/']", { state: "visible" });
  check(true, "image preview shown");
  await page.fill("#question", "Where is the thing?");
  await page.click("#ask");
  await page.waitForSelector("#answer[data-done='true']", { timeout: 20000 });
  const answerHtml = await page.innerHTML("#answer");
  check(answerHtml.includes("<strong>Fake answer</strong>"), "answer rendered as Markdown");
  check(answerHtml.includes("Where is the thing?"), "answer streamed in");
  check(answerHtml.includes("<pre><code"), "code block rendered");
  const boxes = await page.$$eval("#overlay rect.bbox", (rs) =>
    rs.map((r) => ["x", "y", "width", "height"].map((a) => Number(r.getAttribute(a)))));
  check(boxes.length === 1, "one grounding box drawn");
  check(JSON.stringify(boxes[0]) === JSON.stringify([100, 150, 500, 550]), "box at the answer's coordinates");
  const label = await page.textContent("#overlay text");
  check(label === "thing", "box label drawn");
  const stats = await page.textContent("#stats");
  check(/图像 token: 64/.test(stats ?? ""), `image tokens and timings shown (${stats})`);
  // The second identical question hits the image-embedding cache.
  await page.evaluate(() => delete document.getElementById("answer").dataset.done);
  await page.click("#ask");
  await page.waitForSelector("#answer[data-done='true']", { timeout: 20000 });
  check(((await page.textContent("#stats")) ?? "").includes("缓存"), "cache hit shown");
  await page.screenshot({ path: join(outDir, "web_ui.png"), fullPage: true });
  check(true, `screenshot saved to ${join(outDir, "web_ui.png")}`);
} catch (e) {
  failed = true;
  console.error(`FAILED: ${e.message}`);
} finally {
  if (context) await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
  server.kill("SIGTERM");
  const { code } = await exited;
  if (code !== 0) {
    console.error(`server exited with ${code}`);
    failed = true;
  } else {
    console.log("ok - server drained and exited on SIGTERM");
  }
}
process.exit(failed ? 1 : 0);
