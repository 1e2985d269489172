// Reads an OpenAI-style server-sent-event stream from a fetch() response and calls
// onEvent with each parsed `data:` JSON payload until `data: [DONE]`.
export async function readSse(
  response: Response,
  onEvent: (data: any) => void,
): Promise<void> {
  if (!response.body) throw new Error("no response body");
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let sep: number;
    while ((sep = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, sep);
      buffer = buffer.slice(sep + 2);
      for (const line of block.split("\n")) {
        if (!line.startsWith("data:")) continue;  // comments (": keep-alive") and others
        const payload = line.slice(5).trim();
        if (payload === "[DONE]") return;
        onEvent(JSON.parse(payload));
      }
    }
  }
}
