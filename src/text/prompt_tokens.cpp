#include "text/prompt_tokens.h"

#include <cstdio>

#include "core/error.h"

namespace kantu::text {

namespace {

// More visual tokens than this for one image or video frame is a caller bug, not a prompt.
constexpr int64_t kMaxTokensPerItem = int64_t{1} << 24;

std::string format_timestamp(double seconds) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "<%.1f seconds>", seconds);  // Python's f"{t:.1f}"
  return buffer;
}

bool is_control(const PromptPiece& p, std::string_view token) { return p.control && p.text == token; }

void append_text(std::vector<PromptPiece>& pieces, const std::string& text) {
  if (pieces.empty() || pieces.back().control) pieces.push_back({false, {}});
  pieces.back().text.append(text);
}

}  // namespace

std::vector<double> video_patch_timestamps(std::span<const int64_t> frame_indices, double fps,
                                           int merge_size) {
  if (frame_indices.empty()) fail(ErrorKind::kInvalidArgument, "video: no frame indices");
  if (!(fps > 0)) fail(ErrorKind::kInvalidArgument, "video: fps must be positive, got ", fps);
  if (merge_size < 1) fail(ErrorKind::kInvalidArgument, "video: bad merge size ", merge_size);
  std::vector<int64_t> indices(frame_indices.begin(), frame_indices.end());
  while (indices.size() % static_cast<size_t>(merge_size) != 0) indices.push_back(indices.back());
  std::vector<double> out;
  for (size_t i = 0; i < indices.size(); i += static_cast<size_t>(merge_size)) {
    const double first = static_cast<double>(indices[i]) / fps;
    const double last = static_cast<double>(indices[i + static_cast<size_t>(merge_size) - 1]) / fps;
    out.push_back((first + last) / 2);
  }
  return out;
}

RenderedPrompt expand_vision_tokens(const RenderedPrompt& prompt, const VisionTokenCounts& counts) {
  const bool expand_images = !counts.image_tokens.empty();
  const bool expand_videos = !counts.videos.empty();
  if (expand_images && counts.image_tokens.size() != static_cast<size_t>(prompt.image_count)) {
    fail(ErrorKind::kInvalidArgument, "the prompt has ", prompt.image_count, " image(s) but ",
         counts.image_tokens.size(), " image token count(s) were given");
  }
  if (expand_videos && counts.videos.size() != static_cast<size_t>(prompt.video_count)) {
    fail(ErrorKind::kInvalidArgument, "the prompt has ", prompt.video_count, " video(s) but ",
         counts.videos.size(), " video grid(s) were given");
  }
  RenderedPrompt out;
  out.image_count = prompt.image_count;
  out.video_count = prompt.video_count;
  size_t image = 0, video = 0;
  const auto& in = prompt.pieces;
  for (size_t i = 0; i < in.size(); ++i) {
    const PromptPiece& p = in[i];
    if (expand_images && p.image) {
      const int64_t n = counts.image_tokens[image];
      if (n < 1 || n > kMaxTokensPerItem) {
        fail(ErrorKind::kInvalidArgument, "image ", image + 1, ": bad token count ", n);
      }
      out.pieces.push_back({true, p.text, n, true});
      ++image;
      continue;
    }
    if (expand_videos && i + 2 < in.size() && is_control(p, "<|vision_start|>") &&
        is_control(in[i + 1], "<|video_pad|>") && is_control(in[i + 2], "<|vision_end|>")) {
      const VideoTokens& v = counts.videos[video];
      const int64_t frame_tokens = v.grid_h * v.grid_w / 4;
      if (v.grid_t < 1 || v.grid_h < 1 || v.grid_w < 1 || v.grid_h * v.grid_w % 4 != 0 ||
          frame_tokens > kMaxTokensPerItem || v.grid_t > kMaxTokensPerItem) {
        fail(ErrorKind::kInvalidArgument, "video ", video + 1, ": bad grid ", v.grid_t, "x",
             v.grid_h, "x", v.grid_w, " (h*w must be a positive multiple of 4)");
      }
      if (v.timestamps.size() != static_cast<size_t>(v.grid_t)) {
        fail(ErrorKind::kInvalidArgument, "video ", video + 1, ": ", v.timestamps.size(),
             " timestamps for ", v.grid_t, " temporal patches");
      }
      for (int64_t k = 0; k < v.grid_t; ++k) {
        append_text(out.pieces, format_timestamp(v.timestamps[static_cast<size_t>(k)]));
        out.pieces.push_back({true, "<|vision_start|>"});
        out.pieces.push_back({true, "<|video_pad|>", frame_tokens});
        out.pieces.push_back({true, "<|vision_end|>"});
      }
      ++video;
      i += 2;
      continue;
    }
    if (p.control) {
      out.pieces.push_back(p);
    } else {
      append_text(out.pieces, p.text);
    }
  }
  return out;
}

std::vector<int32_t> prompt_token_ids(const Tokenizer& tokenizer, const RenderedPrompt& prompt) {
  std::vector<int32_t> ids;
  if (const auto bos = tokenizer.bos_id()) ids.push_back(*bos);
  for (const PromptPiece& p : prompt.pieces) {
    if (!p.control) {
      const bool starts_text = &p == &prompt.pieces.front();
      const std::vector<int32_t> text_ids = tokenizer.encode(p.text, AddedTokenMode::kNonSpecial, starts_text);
      ids.insert(ids.end(), text_ids.begin(), text_ids.end());
      continue;
    }
    const auto id = tokenizer.token_to_id(p.text);
    if (!id || !tokenizer.is_added(*id)) {
      fail(ErrorKind::kUnsupported, "the chat format's control token ", p.text,
           " is not an added token of this tokenizer");
    }
    ids.insert(ids.end(), static_cast<size_t>(p.repeat), *id);
  }
  return ids;
}

}  // namespace kantu::text
