#include "formats/model_summary.h"

#include <sys/stat.h>

#include "core/error.h"
#include "formats/json_fields.h"
#include "formats/llava_config.h"

namespace kantu {

namespace {

// Qwen3-VL keeps the language model's sizes under text_config; older flat configs
// (Qwen2-VL style) keep them at the top level.
JsonFields text_fields(const ModelFolder& model) {
  JsonFields top(model.config(), model.config_path());
  if (auto text = top.optional_object("text_config")) return *text;
  return top;
}

}  // namespace

TextSizes read_text_sizes(const ModelFolder& model) {
  if (model.family() == ModelFamily::kLlava || model.family() == ModelFamily::kLlavaNext) {
    // llava-hf configs list only what differs from LlamaConfig: the parser knows the rest.
    const llava::TextConfig c = llava::parse_config(model.config(), model.config_path()).text;
    return {c.hidden_size, c.num_layers, c.num_heads, c.num_kv_heads, c.head_dim,
            c.intermediate_size, c.vocab_size, c.max_position_embeddings, c.tie_word_embeddings};
  }
  const JsonFields f = text_fields(model);
  const JsonFields top(model.config(), model.config_path());
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

std::optional<VisionSizes> read_vision_sizes(const ModelFolder& model) {
  const JsonFields top(model.config(), model.config_path());
  switch (model.family()) {
    case ModelFamily::kQwen3VL: {
      if (!model.has_vision()) return std::nullopt;  // a GGUF text model without mmproj
      const JsonFields f = top.object("vision_config");
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
    case ModelFamily::kQwen25VL:
    case ModelFamily::kQwen2VL: {
      if (!model.has_vision()) return std::nullopt;
      // Absent keys take the transformers class defaults, as the model loader does.
      const JsonFields f = top.object("vision_config");
      VisionSizes v;
      const bool v25 = model.family() == ModelFamily::kQwen25VL;
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
    case ModelFamily::kLlava:
    case ModelFamily::kLlavaNext: {
      if (!model.has_vision()) return std::nullopt;
      const llava::Config c = llava::parse_config(model.config(), model.config_path());
      VisionSizes v;
      v.depth = c.vision.num_layers;
      v.hidden_size = c.vision.hidden_size;
      v.num_heads = c.vision.num_heads;
      v.intermediate_size = c.vision.intermediate_size;
      v.patch_size = c.vision.patch_size;
      v.temporal_patch_size = 1;
      v.spatial_merge_size = 1;
      v.out_hidden_size = c.text.hidden_size;
      v.num_position_embeddings = c.vision.positions();
      return v;
    }
  }
  return std::nullopt;
}

WeightStats weight_stats(const WeightStore& weights) {
  WeightStats s;
  for (size_t i = 0; i < weights.files().size(); ++i) {
    WeightFileStats file;
    file.path = weights.files()[i];
    struct stat st {};
    if (::stat(file.path.c_str(), &st) == 0) file.file_bytes = static_cast<uint64_t>(st.st_size);
    file.tensors = static_cast<int64_t>(weights.tensor_count(i));
    s.files.push_back(file);
  }
  for (const auto& [name, view] : weights.tensors()) {
    DTypeStats& d = s.dtypes[dtype_name(view->dtype)];
    d.tensors += 1;
    d.parameters += view->numel();
    d.bytes += view->nbytes;
    s.tensor_count += 1;
    s.parameter_count += view->numel();
    s.total_bytes += view->nbytes;
  }
  return s;
}

}  // namespace kantu
