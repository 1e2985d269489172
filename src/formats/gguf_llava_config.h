// The LLaVA side of gguf_config.h: what llama.cpp's LLaVA pair (text arch "llama", mmproj
// projector "mlp" from its legacy LLaVA converter) stands for in llava-hf terms.
#pragma once

#include <string>

#include "core/json.h"
#include "formats/gguf.h"
#include "formats/model_family.h"

namespace kantu {

// kLlavaNext when the mmproj carries anyres pinpoints (clip.vision.image_grid_pinpoints),
// else kLlava.
ModelFamily gguf_llava_family(const GgufFile& mmproj);

// The config.json of the pair in llava-hf's layout (model_type "llava" / "llava_next",
// text_config with every Llama size, vision_config of the CLIP blocks the file holds).
// The vocabulary must have the "<image>" token (files converted from llava-hf checkpoints
// do): Error(kUnsupported) otherwise; without an mmproj such a file is a plain Llama text
// model, and the error says so and how to pass an mmproj. A LLaVA text model without its
// mmproj is a text-only LLaVA (no vision_config).
Json gguf_llava_config(const GgufFile& text, const GgufFile* mmproj, ModelFamily family);

// The mmproj's image settings as preprocessor_config.json keys: CLIPImageProcessor or
// LlavaNextImageProcessor at the tower's image size, the file's mean/std and pinpoints.
Json gguf_llava_preprocessor(const GgufFile& mmproj, ModelFamily family);

// Shared with the Qwen side (gguf_config.cpp): the text hyper-parameters every llama.cpp
// text file carries under "<arch>.", in config.json's keys.
Json gguf_text_keys(const GgufFile& f, const std::string& arch);

}  // namespace kantu
