#include "eval/local_backend.h"

#include "core/error.h"

namespace kantu::eval {

// The runtime's generation API is not committed yet; until it is, the local mode says so.
std::unique_ptr<CaptionBackend> make_local_backend(const std::string& model_dir, int threads) {
  (void)threads;
  fail(ErrorKind::kUnsupported, "eval run -m ", model_dir,
       ": the local engine is not available in this build yet; serve the model with an "
       "OpenAI-compatible server and use --endpoint URL --model NAME");
}

}  // namespace kantu::eval
