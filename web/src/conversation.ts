// The page's conversation about one picture: what was asked and answered so far, and the
// OpenAI messages each new question is sent with (the whole history, the picture in the
// first question), so the server's prefix cache reuses the earlier turns.

export interface Turn {
  question: string;
  answer: string;
}

export class Conversation {
  turns: Turn[] = [];

  constructor(public imageDataUrl: string | null = null) {}

  // The messages for asking `question` after the turns so far.
  messages(question: string): object[] {
    const out: object[] = [];
    const user = (text: string, first: boolean) => ({
      role: "user",
      content: [
        ...(first && this.imageDataUrl ? [{ type: "image_url", image_url: { url: this.imageDataUrl } }] : []),
        { type: "text", text },
      ],
    });
    this.turns.forEach((t, i) => {
      out.push(user(t.question, i === 0));
      out.push({ role: "assistant", content: t.answer });
    });
    out.push(user(question, this.turns.length === 0));
    return out;
  }
}

// How much of a prompt the server took from its cache: usage.prompt_tokens_details
// (OpenAI's field), else timings.cached_tokens; null when the reply says nothing.
export function cachedTokens(data: any): number | null {
  const fromUsage = data?.usage?.prompt_tokens_details?.cached_tokens;
  if (typeof fromUsage === "number") return fromUsage;
  const fromTimings = data?.timings?.cached_tokens;
  return typeof fromTimings === "number" ? fromTimings : null;
}
