// The Qwen-VL families' config.json sizes: the language model under text_config (Qwen3-VL)
// or at the top level (Qwen2-VL style), the vision tower under vision_config.
#include "core/error.h"
#include "formats/family_sizes.h"
#include "formats/json_fields.h"

namespace kantu {

namespace {

TextSizes text_sizes(const Json& config, const std::string& path) {
  const JsonFields top(config, path);
  // Qwen3-VL keeps the language model's sizes under text_config; older flat configs
  // (Qwen2-VL style) keep them at the top level.
  const std::optional<JsonFields> text = top.optional_object("text_config");
  const JsonFields& f = text ? *text : top;
  TextSizes t;
  t.hidden_size = f.positive_int("hidden_size");
  t.num_layers = f.positive_int("num_hidden_layers");
  t.num_heads = f.positive_int("num_attention_heads");
  t.num_kv_heads = f.positive_int("num_key_value_heads", t.num_heads);
  if (t.num_heads % t.num_kv_heads != 0) {
    f.wrong("num_key_value_heads", cat("a divisor of num_attention_heads (", t.num_heads, ")"));
  }
  if (f.has("head_dim")) {
    t.head_dim = f.positive_int("head_dim");
  } else {
    if (t.hidden_size % t.num_heads != 0) {
      f.wrong("num_attention_heads", "a divisor of hidden_size when head_dim is absent");
    }
    t.head_dim = t.hidden_size / t.num_heads;
  }
  t.intermediate_size = f.positive_int("intermediate_size");
  t.vocab_size = f.positive_int("vocab_size");
  t.max_position_embeddings = f.non_negative_int("max_position_embeddings", 0);
  // transformers reads tie_word_embeddings from the top level for the whole model;
  // text_config carries a copy.
  t.tie_word_embeddings = top.boolean("tie_word_embeddings", f.boolean("tie_word_embeddings", false));
  return t;
}

VisionSizes qwen3vl_vision_sizes(const Json& config, const std::string& path) {
  const JsonFields f = JsonFields(config, path).object("vision_config");
  VisionSizes v;
  v.depth = f.positive_int("depth");
  v.hidden_size = f.positive_int("hidden_size");
  v.num_heads = f.positive_int("num_heads");
  if (v.hidden_size % v.num_heads != 0) {
    f.wrong("num_heads", cat("a divisor of hidden_size (", v.hidden_size, ")"));
  }
  v.intermediate_size = f.positive_int("intermediate_size");
  v.patch_size = f.positive_int("patch_size");
  v.temporal_patch_size = f.positive_int("temporal_patch_size");
  v.spatial_merge_size = f.positive_int("spatial_merge_size");
  v.out_hidden_size = f.positive_int("out_hidden_size");
  v.num_position_embeddings = f.positive_int("num_position_embeddings");
  v.deepstack_visual_indexes = f.has("deepstack_visual_indexes")
                                   ? f.non_negative_int_list("deepstack_visual_indexes")
                                   : std::vector<int64_t>{};
  for (int64_t i : v.deepstack_visual_indexes) {
    if (i >= v.depth) {
      f.wrong("deepstack_visual_indexes", cat("block indexes below depth (", v.depth, ")"));
    }
  }
  return v;
}

// Qwen2.5-VL derives from Qwen2-VL (as in transformers): the same tower with other key
// names, window attention added. Absent keys take the transformers class defaults, as
// the model loader does.
VisionSizes qwen2vl_vision_sizes(const Json& config, const std::string& path, bool v25) {
  const JsonFields f = JsonFields(config, path).object("vision_config");
  VisionSizes v;
  v.depth = f.positive_int("depth", 32);
  v.hidden_size = v25 ? f.positive_int("hidden_size", 3584) : f.positive_int("embed_dim", 1280);
  v.num_heads = f.positive_int("num_heads", 16);
  if (v.hidden_size % v.num_heads != 0) {
    f.wrong("num_heads", cat("a divisor of the vision width (", v.hidden_size, ")"));
  }
  v.intermediate_size = v25 ? f.positive_int("intermediate_size", 3420)
                            : static_cast<int64_t>(v.hidden_size * f.positive_number("mlp_ratio", 4.0));
  v.patch_size = f.positive_int("patch_size", 14);
  v.temporal_patch_size = f.positive_int("temporal_patch_size", 2);
  v.spatial_merge_size = f.positive_int("spatial_merge_size", 2);
  v.out_hidden_size = v25 ? f.positive_int("out_hidden_size", 3584) : f.positive_int("hidden_size", 3584);
  if (v25) {
    v.window_size = f.positive_int("window_size", 112);
    v.fullatt_block_indexes = f.has("fullatt_block_indexes")
                                  ? f.non_negative_int_list("fullatt_block_indexes")
                                  : std::vector<int64_t>{7, 15, 23, 31};
  }
  return v;
}

VisionSizes qwen25vl_vision_sizes(const Json& config, const std::string& path) {
  return qwen2vl_vision_sizes(config, path, /*v25=*/true);
}
VisionSizes qwen2vl_only_vision_sizes(const Json& config, const std::string& path) {
  return qwen2vl_vision_sizes(config, path, /*v25=*/false);
}

}  // namespace

const FamilySizeReaders kQwen3VLSizes = {text_sizes, qwen3vl_vision_sizes};
const FamilySizeReaders kQwen25VLSizes = {text_sizes, qwen25vl_vision_sizes};
const FamilySizeReaders kQwen2VLSizes = {text_sizes, qwen2vl_only_vision_sizes};

}  // namespace kantu
