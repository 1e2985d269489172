// Finds Qwen grounding output in an answer: objects like
//   {"bbox_2d": [x1, y1, x2, y2], "label": "cat"}
// with coordinates relative to the image on a 0..1000 scale.

export interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  label: string;
}

const BOX_RE =
  /"bbox_2d"\s*:\s*\[\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*\]/g;

export function findBoxes(text: string): Box[] {
  const boxes: Box[] = [];
  for (const m of text.matchAll(BOX_RE)) {
    const [x1, y1, x2, y2] = m.slice(1, 5).map(Number);
    if (![x1, y1, x2, y2].every(Number.isFinite)) continue;
    // The label may come before or after the box inside the same object.
    const start = text.lastIndexOf("{", m.index ?? 0);
    const end = text.indexOf("}", (m.index ?? 0) + m[0].length);
    const obj = text.slice(start < 0 ? 0 : start, end < 0 ? text.length : end);
    const label = obj.match(/"label"\s*:\s*"((?:[^"\\]|\\.)*)"/);
    boxes.push({
      x1: Math.min(x1, x2), y1: Math.min(y1, y2), x2: Math.max(x1, x2), y2: Math.max(y1, y2),
      label: label ? label[1] : "",
    });
  }
  return boxes;
}
