// A CaptionBackend running the model in this process (runtime::Engine).
#pragma once

#include <memory>
#include <string>

#include "eval/caption_backend.h"
#include "models/model.h"

namespace kantu::eval {

// model_dir: a model folder, or a GGUF model file with its vision projector `mmproj`;
// name: how runs and reports call the model (see model_label).
std::unique_ptr<CaptionBackend> make_local_backend(const std::string& model_dir, const std::string& name,
                                                   int threads, const models::WeightOptions& weights = {},
                                                   const std::string& mmproj = "");

// A model's label from -m as the user gave it: the last part of the path or Hub name, a
// GGUF file without its extension ("/m/qwen3-vl-2b/" -> "qwen3-vl-2b",
// "Qwen/Qwen3-VL-2B-Instruct" -> "Qwen3-VL-2B-Instruct", "x/model-Q8_0.gguf" -> "model-Q8_0").
// Not the resolved path: a folder of GGUF files or a Hub name resolves to a file or a
// snapshot folder whose name says nothing of the model.
std::string model_label(const std::string& model_as_given);

}  // namespace kantu::eval
