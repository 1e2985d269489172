// A model named the Hub's way: ORG/NAME, optionally with :TAG (a GGUF quantization,
// llama.cpp's `-hf` convention: Qwen/Qwen3-VL-2B-Instruct-GGUF:Q4_K_M).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kantu::hub {

struct ModelRef {
  std::string repo;  // ORG/NAME
  std::string tag;   // empty: none

  std::string str() const { return tag.empty() ? repo : repo + ":" + tag; }
};

// The name in `text`, or nullopt when it is not one (a path such as ./x, /x, x.gguf, a/b/c).
std::optional<ModelRef> parse_model_ref(std::string_view text);
// As parse_model_ref, but Error(kInvalidArgument) saying what a name looks like.
ModelRef parse_model_ref_or_fail(std::string_view text);

}  // namespace kantu::hub
