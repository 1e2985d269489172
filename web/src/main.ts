// The upload-and-ask page: pick, drop or paste an image, ask, and watch the answer
// stream in from POST /v1/chat/completions (SSE); grounding boxes in the answer are
// drawn over the image; per-stage timings come from the final chunk.
import { findBoxes } from "./bbox";
import { Lang, STRINGS, Strings } from "./i18n";
import { escapeHtml, renderMarkdown } from "./markdown";
import { readSse } from "./sse";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const ui = {
  title: $<HTMLHeadingElement>("title"),
  lang: $<HTMLButtonElement>("lang"),
  drop: $<HTMLLabelElement>("drop"),
  dropText: $<HTMLSpanElement>("drop-text"),
  file: $<HTMLInputElement>("file"),
  stage: $<HTMLDivElement>("stage"),
  preview: $<HTMLImageElement>("preview"),
  overlay: document.getElementById("overlay") as unknown as SVGSVGElement,
  form: $<HTMLFormElement>("ask-form"),
  questionLabel: $<HTMLLabelElement>("question-label"),
  question: $<HTMLTextAreaElement>("question"),
  ask: $<HTMLButtonElement>("ask"),
  answerTitle: $<HTMLHeadingElement>("answer-title"),
  answer: $<HTMLDivElement>("answer"),
  stats: $<HTMLDivElement>("stats"),
  error: $<HTMLDivElement>("error"),
};

let lang: Lang = (localStorage.getItem("kantu-lang") as Lang) || "zh";
let imageDataUrl: string | null = null;
let controller: AbortController | null = null;
let lastTimings: any = null;

function t(): Strings {
  return STRINGS[lang];
}

function applyLanguage(): void {
  const s = t();
  const wasDefault = Object.values(STRINGS).some((x) => x.defaultQuestion === ui.question.value);
  document.documentElement.lang = lang;
  document.title = s.title;
  ui.title.textContent = s.title;
  ui.lang.textContent = s.toggle;
  ui.dropText.textContent = s.drop;
  ui.questionLabel.textContent = s.question;
  if (!ui.question.value || wasDefault) ui.question.value = s.defaultQuestion;
  ui.ask.textContent = controller ? s.stop : s.ask;
  ui.answerTitle.textContent = s.answer;
  renderStats();
}

function setImage(file: File): void {
  if (!file.type.startsWith("image/")) return;
  const reader = new FileReader();
  reader.onload = () => {
    imageDataUrl = String(reader.result);
    ui.preview.src = imageDataUrl;
    ui.stage.hidden = false;
    ui.dropText.hidden = true;
    ui.overlay.innerHTML = "";
  };
  reader.readAsDataURL(file);
}

function drawBoxes(text: string): void {
  const boxes = findBoxes(text);
  ui.overlay.innerHTML = boxes
    .map((b) => {
      const label = b.label
        ? `<text x="${b.x1 + 4}" y="${Math.max(b.y1 - 8, 24)}">${escapeHtml(b.label)}</text>`
        : "";
      return `<rect class="bbox" x="${b.x1}" y="${b.y1}" width="${b.x2 - b.x1}" height="${b.y2 - b.y1}"></rect>${label}`;
    })
    .join("");
}

function renderStats(): void {
  const tm = lastTimings;
  if (!tm) {
    ui.stats.textContent = "";
    return;
  }
  const s = t();
  const ms = (x: number) => `${x.toFixed(0)} ms`;
  ui.stats.textContent = [
    `${s.imageTokens}: ${tm.image_tokens}`,
    `${s.imageMs}: ${ms(tm.image_ms)}${tm.cached ? s.cached : ""}`,
    `${s.prefill}: ${ms(tm.prefill_ms)} (${tm.prefill_tok_s.toFixed(1)} tok/s)`,
    `${s.decode}: ${ms(tm.decode_ms)} (${tm.decode_tok_s.toFixed(1)} tok/s)`,
  ].join(" · ");
}

function showError(message: string): void {
  ui.error.hidden = false;
  ui.error.textContent = `${t().error}: ${message}`;
}

async function ask(): Promise<void> {
  if (controller) {
    controller.abort();
    return;
  }
  if (!imageDataUrl) {
    showError(t().noImage);
    return;
  }
  ui.error.hidden = true;
  ui.answer.innerHTML = "";
  ui.overlay.innerHTML = "";
  lastTimings = null;
  renderStats();
  controller = new AbortController();
  ui.ask.textContent = t().stop;
  let text = "";
  try {
    const response = await fetch("/v1/chat/completions", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      signal: controller.signal,
      body: JSON.stringify({
        stream: true,
        messages: [
          {
            role: "user",
            content: [
              { type: "image_url", image_url: { url: imageDataUrl } },
              { type: "text", text: ui.question.value || t().defaultQuestion },
            ],
          },
        ],
      }),
    });
    if (!response.ok) {
      const body = await response.json().catch(() => null);
      throw new Error(body?.error?.message ?? `HTTP ${response.status}`);
    }
    await readSse(response, (data) => {
      if (data.error) throw new Error(data.error.message);
      const delta = data.choices?.[0]?.delta?.content;
      if (delta) {
        text += delta;
        ui.answer.innerHTML = renderMarkdown(text);
      }
      if (data.timings) {
        lastTimings = data.timings;
        renderStats();
      }
    });
    drawBoxes(text);
    ui.answer.dataset.done = "true";
  } catch (e: any) {
    if (e?.name !== "AbortError") showError(e?.message ?? String(e));
  } finally {
    controller = null;
    ui.ask.textContent = t().ask;
  }
}

ui.file.addEventListener("change", () => {
  if (ui.file.files?.[0]) setImage(ui.file.files[0]);
});
ui.drop.addEventListener("dragover", (e) => {
  e.preventDefault();
  ui.drop.classList.add("over");
});
ui.drop.addEventListener("dragleave", () => ui.drop.classList.remove("over"));
ui.drop.addEventListener("drop", (e) => {
  e.preventDefault();
  ui.drop.classList.remove("over");
  const f = e.dataTransfer?.files?.[0];
  if (f) setImage(f);
});
document.addEventListener("paste", (e) => {
  for (const item of Array.from(e.clipboardData?.items ?? [])) {
    const f = item.kind === "file" ? item.getAsFile() : null;
    if (f && f.type.startsWith("image/")) {
      setImage(f);
      e.preventDefault();
      return;
    }
  }
});
ui.form.addEventListener("submit", (e) => {
  e.preventDefault();
  void ask();
});
ui.lang.addEventListener("click", () => {
  lang = lang === "zh" ? "en" : "zh";
  localStorage.setItem("kantu-lang", lang);
  applyLanguage();
});
applyLanguage();
