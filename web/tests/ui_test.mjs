// Browser test of the page: starts `kantu serve` on the tiny real Qwen3-VL model on a
// free port, drives Debian's Chromium through playwright-core (no browser download),
// uploads an image, asks, asks a follow-up, starts over, and checks the streamed answers,
// the conversation sent and shown, the stats and the caches. Markdown, grounding boxes and
// the cached-prompt display are checked on canned answers (routed responses: the tiny
// model's words are random), so the page's rendering is tested on known text.
// Saves a screenshot. Usage:
//   node tests/ui_test.mjs --kantu PATH --testdata DIR --out DIR
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
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
const testdata = process.env.KANTU_TESTDATA || arg("--testdata");
const image = join(testdata, "images/img_256x256.png");
const model = join(testdata, "models/qwen3vl-tiny-a");
const outDir = arg("--out");
mkdirSync(outDir, { recursive: true });

// The server prints one JSON line per event on stdout.
const server = spawn(kantu, ["serve", "-m", model, "--port", "0", "--threads", "1"], {
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

  const requests = [];  // the bodies the page sent to /v1/chat/completions
  page.on("request", (r) => {
    if (r.url().endsWith("/v1/chat/completions")) requests.push(r.postDataJSON());
  });
  const turns = () => page.$$eval("#conversation .turn", (ts) => ts.map((t) => ({
    question: t.querySelector(".question").textContent,
    answer: t.querySelector(".answer").textContent,
    done: t.querySelector(".answer").dataset.done === "true",
    stats: t.querySelector(".stats").textContent,
  })));
  async function askAndWait(question, count) {
    await page.fill("#question", question);
    await page.click("#ask");
    await page.waitForSelector(`#conversation .turn:nth-child(${count}) .answer[data-done='true']`,
      { timeout: 90000 });
    return turns();
  }

  await page.setInputFiles("#file", image);
  await page.waitForSelector("#preview[src^='data:image/']", { state: "visible" });
  check(true, "image preview shown");

  // Rendering, on known answers: Markdown, a code block, a grounding box, the cached part.
  const canned = "**Boxed** answer\n```\ncode\n```\n" +
    '{"bbox_2d": [100, 150, 500, 550], "label": "thing"}';
  const chunk = (x) => `data: ${JSON.stringify(x)}\n\n`;
  await page.route("**/v1/chat/completions", (route) => route.fulfill({
    status: 200,
    headers: { "Content-Type": "text/event-stream" },
    body: [canned.slice(0, 10), canned.slice(10)]
      .map((c) => chunk({ choices: [{ index: 0, delta: { content: c } }] })).join("") +
      chunk({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }],
        usage: { prompt_tokens: 200, completion_tokens: 30, prompt_tokens_details: { cached_tokens: 150 } } }) +
      "data: [DONE]\n\n",
  }));
  let shown = await askAndWait("Where is the thing?", 1);
  const answerHtml = await page.innerHTML("#conversation .turn:nth-child(1) .answer");
  check(answerHtml.includes("<strong>Boxed</strong>"), "answer rendered as Markdown");
  check(answerHtml.includes("<pre><code"), "code block rendered");
  let boxes = await page.$$eval("#overlay rect.bbox", (rs) =>
    rs.map((r) => ["x", "y", "width", "height"].map((a) => Number(r.getAttribute(a)))));
  check(boxes.length === 1, "one grounding box drawn");
  check(JSON.stringify(boxes[0]) === JSON.stringify([100, 150, 400, 400]), "box at the answer's coordinates");
  check((await page.textContent("#overlay text")) === "thing", "box label drawn");
  check(/提示 token: 200 · 已缓存: 150/.test(shown[0].stats), `cached part of the prompt shown (${shown[0].stats})`);
  const barWidth = await page.$eval("#conversation .turn:nth-child(1) .cachebar .cached", (e) => e.style.width);
  check(parseFloat(barWidth) === 75, `the cache bar is 150/200 full (${barWidth})`);
  check((await page.inputValue("#question")) === "", "the question box is cleared for a follow-up");
  shown = await askAndWait("And the box?", 2);
  check(shown.length === 2 && shown[0].question === "Where is the thing?" && shown[1].question === "And the box?",
    "both turns shown as a conversation");
  let sent = requests.at(-1).messages;
  check(sent.length === 3 && sent[0].content[0].type === "image_url" && sent[0].content[1].text === "Where is the thing?" &&
    sent[1].role === "assistant" && sent[1].content === canned && sent[2].content.length === 1 &&
    sent[2].content[0].text === "And the box?", "the follow-up is sent with the conversation, the image in its first question");
  await page.click("#new-chat");
  check((await turns()).length === 0, "New conversation clears the turns");
  check((await page.inputValue("#question")) === "请描述这张图片", "and brings the default question back");
  await page.unroute("**/v1/chat/completions");

  // The real model: a question, a follow-up about the same picture, a fresh start.
  shown = await askAndWait("Where is the thing?", 1);
  check(shown[0].answer.trim().length > 0, "the model's answer streamed in");
  const imageTokens = Number(/图像 token: (\d+)/.exec(shown[0].stats)?.[1] ?? 0);
  check(imageTokens > 0, `image tokens and timings shown (${shown[0].stats})`);
  const firstAnswer = requests.length;
  shown = await askAndWait("What colour is it?", 2);
  sent = requests.at(-1).messages;
  check(requests.length === firstAnswer + 1 && sent.length === 3 && sent[0].content[0].type === "image_url" &&
    sent[1].role === "assistant" && sent[1].content.length > 0 && sent[2].content[0].text === "What colour is it?",
    "the follow-up carries the first question, its image and the model's answer");
  check(shown[1].stats.includes("缓存"), `the follow-up found the image in the cache (${shown[1].stats})`);
  const figures = /提示 token: (\d+) · 已缓存: (\d+)/.exec(shown[1].stats);
  check(figures && Number(figures[2]) > 0 && Number(figures[2]) < Number(figures[1]),
    `the follow-up's cached part of the prompt shown (${figures?.[0]})`);
  const bar = await page.$eval("#conversation .turn:nth-child(2) .cachebar .cached", (e) => parseFloat(e.style.width));
  check(bar > 0 && bar < 100, `and drawn as a bar (${bar}%)`);
  await page.screenshot({ path: join(outDir, "web_ui_conversation.png"), fullPage: true });
  await page.click("#new-chat");
  shown = await askAndWait("请描述这张图片", 1);
  check(shown.length === 1 && requests.at(-1).messages.length === 1, "after starting over, one question is sent alone");
  check(true, `screenshot saved to ${join(outDir, "web_ui_conversation.png")}`);
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
