// A CaptionBackend running the model in this process (runtime::Engine).
#pragma once

#include <memory>
#include <string>

#include "eval/caption_backend.h"
#include "models/model.h"

namespace kantu::eval {

std::unique_ptr<CaptionBackend> make_local_backend(const std::string& model_dir, int threads,
                                                   const models::WeightOptions& weights = {});

}  // namespace kantu::eval
