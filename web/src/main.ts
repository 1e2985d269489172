// The upload-and-ask page: pick, drop or paste an image, ask, and watch the answer
// stream in from POST /v1/chat/completions (SSE). Follow-up questions go with the whole
// conversation (conversation.ts), shown as turns; "New conversation" starts over with the
// same picture, a new picture starts over with it. Grounding boxes of the latest answer are
// drawn over the image; each turn shows its timings and how much of its prompt the server
// had cached.
import { findBoxes } from "./bbox";
import { cachedTokens, Conversation } from "./conversation";
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
  newChat: $<HTMLButtonElement>("new-chat"),
  conversation: $<HTMLDivElement>("conversation"),
  error: $<HTMLDivElement>("error"),
};

// What the page shows of one turn; its figures are kept to redraw them in the other language.
interface TurnView {
  stats: HTMLDivElement;
  final: any;  // the final SSE chunk (usage, timings), once there
}

let lang: Lang = (localStorage.getItem("kantu-lang") as Lang) || "zh";
let chat = new Conversation();
let views: TurnView[] = [];
let controller: AbortController | null = null;

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
  if (chat.turns.length === 0 && (!ui.question.value || wasDefault)) ui.question.value = s.defaultQuestion;
  ui.question.placeholder = s.followUp;
  ui.ask.textContent = controller ? s.stop : s.ask;
  ui.answerTitle.textContent = s.conversation;
  ui.newChat.textContent = s.newChat;
  views.forEach(renderStats);
}

// Forgets the conversation (not the picture).
function startOver(): void {
  if (controller) controller.abort();
  chat = new Conversation(chat.imageDataUrl);
  views = [];
  ui.conversation.innerHTML = "";
  ui.overlay.innerHTML = "";
  ui.error.hidden = true;
  ui.question.value = t().defaultQuestion;
}

function setImage(file: File): void {
  if (!file.type.startsWith("image/")) return;
  const reader = new FileReader();
  reader.onload = () => {
    const url = String(reader.result);
    ui.preview.src = url;
    ui.stage.hidden = false;
    ui.dropText.hidden = true;
    chat.imageDataUrl = url;
    startOver();  // a new picture, a new conversation
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

// "prompt 180 tokens, 150 cached" with a bar whose dark part is the cached prefix, then
// the timings.
function renderStats(view: TurnView): void {
  const tm = view.final?.timings;
  const usage = view.final?.usage;
  if (!tm && !usage) {
    view.stats.innerHTML = "";
    return;
  }
  const s = t();
  const ms = (x: number) => `${x.toFixed(0)} ms`;
  const parts: string[] = [];
  const prompt = usage?.prompt_tokens;
  const cached = cachedTokens(view.final);
  let bar = "";
  if (typeof prompt === "number") {
    let text = `${s.promptTokens}: ${prompt}`;
    if (cached !== null) {
      text += ` · ${s.cachedTokens}: ${cached}`;
      const pct = prompt > 0 ? Math.min(100, (100 * cached) / prompt) : 0;
      bar = `<div class="cachebar" title="${escapeHtml(text)}"><span class="cached" style="width:${pct.toFixed(1)}%"></span></div>`;
    }
    parts.push(text);
  }
  if (tm) {
    parts.push(`${s.imageTokens}: ${tm.image_tokens}`);
    parts.push(`${s.imageMs}: ${ms(tm.image_ms)}${tm.cached ? s.cached : ""}`);
    parts.push(`${s.prefill}: ${ms(tm.prefill_ms)} (${tm.prefill_tok_s.toFixed(1)} tok/s)`);
    parts.push(`${s.decode}: ${ms(tm.decode_ms)} (${tm.decode_tok_s.toFixed(1)} tok/s)`);
  }
  view.stats.innerHTML = `${bar}<span class="figures">${escapeHtml(parts.join(" · "))}</span>`;
}

function showError(message: string): void {
  ui.error.hidden = false;
  ui.error.textContent = `${t().error}: ${message}`;
}

function addTurnElement(question: string): { turn: HTMLDivElement; answer: HTMLDivElement; view: TurnView } {
  const turn = document.createElement("div");
  turn.className = "turn";
  const q = document.createElement("div");
  q.className = "question";
  q.textContent = question;
  const answer = document.createElement("div");
  answer.className = "answer";
  const stats = document.createElement("div");
  stats.className = "stats";
  turn.append(q, answer, stats);
  ui.conversation.append(turn);
  const view = { stats, final: null };
  return { turn, answer, view };
}

async function ask(): Promise<void> {
  if (controller) {
    controller.abort();
    return;
  }
  if (!chat.imageDataUrl) {
    showError(t().noImage);
    return;
  }
  const question = ui.question.value.trim() || (chat.turns.length ? "" : t().defaultQuestion);
  if (!question) return;
  ui.error.hidden = true;
  ui.overlay.innerHTML = "";
  const { turn, answer, view } = addTurnElement(question);
  views.push(view);
  const messages = chat.messages(question);
  controller = new AbortController();
  ui.ask.textContent = t().stop;
  let text = "";
  let ok = false;
  try {
    const response = await fetch("/v1/chat/completions", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      signal: controller.signal,
      body: JSON.stringify({ stream: true, messages }),
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
        answer.innerHTML = renderMarkdown(text);
      }
      if (data.timings || data.usage) {
        view.final = { ...view.final, ...data };
        renderStats(view);
      }
    });
    ok = true;
  } catch (e: any) {
    if (e?.name === "AbortError") {
      ok = text.length > 0;  // a stopped answer stays in the conversation as far as it got
    } else {
      showError(e?.message ?? String(e));
    }
  } finally {
    controller = null;
    ui.ask.textContent = t().ask;
  }
  if (ok) {
    chat.turns.push({ question, answer: text });
    drawBoxes(text);
    ui.question.value = "";
    answer.dataset.done = "true";
  } else {
    turn.remove();  // a failed question is not part of the conversation
    views.pop();
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
ui.question.addEventListener("keydown", (e) => {
  // Enter asks, Shift+Enter is a new line (as in chat apps).
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    void ask();
  }
});
ui.newChat.addEventListener("click", startOver);
ui.lang.addEventListener("click", () => {
  lang = lang === "zh" ? "en" : "zh";
  localStorage.setItem("kantu-lang", lang);
  applyLanguage();
});
applyLanguage();
