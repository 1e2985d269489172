// The tokenizers and chat formats the text fuzzers exercise: those of the tiny models in
// the shared test data (KANTU_TESTDATA, default ../shared) that this build can load;
// models whose files it cannot read yet are left out. Loaded once per process; models
// with the same tokenizer files share one tokenizer (loading one takes seconds under the
// sanitizers).
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/mapped_file.h"
#include "text/chat.h"
#include "text/tokenizer.h"

namespace kantu::fuzz {

struct TextModel {
  std::string name;
  std::shared_ptr<const text::Tokenizer> tokenizer;
  std::unique_ptr<text::ChatFormat> chat;  // null when the folder has no format we render
};

// with_chat: only models whose chat format loads (and then their tokenizers).
inline std::vector<TextModel> load_text_models(bool with_chat) {
  const char* env = std::getenv("KANTU_TESTDATA");
  const std::filesystem::path root = std::filesystem::path(env && *env ? env : KANTU_TESTDATA_DEFAULT) / "models";
  std::vector<std::filesystem::path> dirs;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(root, ec)) dirs.push_back(entry.path());
  std::sort(dirs.begin(), dirs.end());
  std::map<std::string, std::shared_ptr<const text::Tokenizer>> by_files;
  std::vector<TextModel> out;
  for (const auto& dir : dirs) {
    TextModel m;
    m.name = dir.filename().string();
    try {
      m.chat = text::load_chat_format(dir.string());
    } catch (const Error&) {
      if (with_chat) continue;
    }
    std::string files;
    for (const char* f : {"tokenizer.json", "vocab.json", "merges.txt", "tokenizer_config.json", "tokenizer.model"}) {
      const std::string path = (dir / f).string();
      files += std::string(f) + "\n" + (file_exists(path) ? read_file(path) : std::string()) + "\n";
    }
    auto& shared = by_files[files];
    if (!shared) {
      try {
        shared = std::make_shared<const text::Tokenizer>(text::Tokenizer::load(dir.string()));
      } catch (const Error&) {
        by_files.erase(files);
        continue;
      }
    }
    m.tokenizer = shared;
    out.push_back(std::move(m));
  }
  if (out.empty()) {
    std::fprintf(stderr, "fuzz: no model could be loaded from %s (set KANTU_TESTDATA)\n", root.c_str());
    std::abort();
  }
  return out;
}

}  // namespace kantu::fuzz
