// Parses a tokenizer file's JSON while pulling the vocabulary (an object of ~150k
// "token": id pairs) and the merges out of the event stream instead of building them as DOM
// nodes: building them costs most of the load time. Shared by the tokenizer.json and
// vocab.json loaders.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/json.h"

namespace kantu::text {

// vocab_path/merges_path name where they sit: {} = top level, {"model", "vocab"} =
// doc.model.vocab. Everything else is returned as the DOM.
struct VocabMergesStream {
  std::vector<std::string> vocab_path, merges_path;
  bool collect_merges = true;  // false: merges come from merges.txt
  std::vector<std::pair<std::string, Json>> vocab;      // spelled token, id value
  std::vector<std::pair<std::string, std::string>> merges;
  std::vector<std::string> bad_merges;                  // entries of an unexpected form
  bool saw_vocab = false, saw_merges = false;

  // Throws Error(kCorrupt) naming path for invalid JSON.
  Json parse(const std::string& text, const std::string& path);
};

}  // namespace kantu::text
