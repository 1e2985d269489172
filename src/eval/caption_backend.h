// What `kantu eval run` needs from whatever writes the captions: one image + prompt in,
// text + timings out. Implementations: an OpenAI-compatible endpoint (llama.cpp server,
// vLLM, ollama, `kantu serve`) and the local engine.
#pragma once

#include <optional>
#include <string>

namespace kantu::eval {

struct CaptionRequest {
  std::string image_path;
  std::string prompt;
  int max_tokens = 64;
};

// Unknown figures are negative (an endpoint only reports the total and token counts).
struct CaptionTimings {
  double total_ms = -1;
  double image_encode_ms = -1;
  double prefill_ms = -1;
  double decode_ms = -1;
  long long prompt_tokens = -1;
  long long generated_tokens = -1;
};

struct Caption {
  std::string text;
  CaptionTimings timings;
};

class CaptionBackend {
 public:
  virtual ~CaptionBackend() = default;
  virtual std::string model_name() const = 0;
  virtual std::string kind() const = 0;  // "endpoint" or "local"
  // Throws kantu::Error on failure (nothing is recorded for that image).
  virtual Caption caption(const CaptionRequest& request) = 0;
  // True when caption() may be called from several threads at once (an endpoint
  // backend: the requests go to servers); the local engine runs one caption at a time.
  virtual bool concurrent() const { return false; }
  // Peak resident memory of the engine in MiB; nullopt when unknown (an endpoint).
  virtual std::optional<double> peak_memory_mb() const = 0;
};

}  // namespace kantu::eval
