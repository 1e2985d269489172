// The page's strings in Chinese and English.
export type Lang = "zh" | "en";

export const STRINGS = {
  zh: {
    title: "看图 · kantu",
    drop: "点击选择、拖放或粘贴一张图片",
    question: "问题",
    defaultQuestion: "请描述这张图片",
    ask: "提问",
    stop: "停止",
    conversation: "对话",
    newChat: "新对话",
    followUp: "继续提问……（Enter 发送，Shift+Enter 换行）",
    promptTokens: "提示 token",
    cachedTokens: "已缓存",
    imageTokens: "图像 token",
    imageMs: "图像编码",
    prefill: "预填充",
    decode: "解码",
    cached: "（缓存）",
    noImage: "请先选择一张图片",
    error: "出错了",
    toggle: "English",
  },
  en: {
    title: "kantu · look and ask",
    drop: "Click to choose, drop or paste an image",
    question: "Question",
    defaultQuestion: "Describe this image.",
    ask: "Ask",
    stop: "Stop",
    conversation: "Conversation",
    newChat: "New conversation",
    followUp: "Ask a follow-up… (Enter sends, Shift+Enter for a new line)",
    promptTokens: "prompt tokens",
    cachedTokens: "cached",
    imageTokens: "image tokens",
    imageMs: "image encode",
    prefill: "prefill",
    decode: "decode",
    cached: " (cached)",
    noImage: "Choose an image first",
    error: "Error",
    toggle: "中文",
  },
} as const;

export type Strings = (typeof STRINGS)[Lang];
