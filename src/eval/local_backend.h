// A CaptionBackend running the model in this process (runtime::Engine).
#pragma once

#include <memory>
#include <string>

#include "eval/caption_backend.h"
#include "models/model.h"

namespace kantu::eval {

// model_dir: a model folder, or a GGUF model file with its vision projector `mmproj`.
std::unique_ptr<CaptionBackend> make_local_backend(const std::string& model_dir, int threads,
                                                   const models::WeightOptions& weights = {},
                                                   const std::string& mmproj = "");

}  // namespace kantu::eval
