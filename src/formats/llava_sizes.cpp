// LLaVA-1.5 and LLaVA-NeXT config.json sizes: llava-hf configs list only what differs from
// LlamaConfig / CLIPVisionConfig, so they come from the one parser that knows the rest.
#include "formats/family_sizes.h"
#include "formats/llava_config.h"

namespace kantu {

namespace {

TextSizes text_sizes(const Json& config, const std::string& path) {
  const llava::TextConfig c = llava::parse_config(config, path).text;
  return {c.hidden_size, c.num_layers, c.num_heads, c.num_kv_heads, c.head_dim,
          c.intermediate_size, c.vocab_size, c.max_position_embeddings, c.tie_word_embeddings};
}

// A CLIP tower: one frame per image, no patch merging; the projector maps to the text width.
VisionSizes vision_sizes(const Json& config, const std::string& path) {
  const llava::Config c = llava::parse_config(config, path);
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

}  // namespace

const FamilySizeReaders kLlavaSizes = {text_sizes, vision_sizes};

}  // namespace kantu
