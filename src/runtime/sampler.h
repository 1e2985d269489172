// Picks the next token from a row of logits: greedy, or random sampling with the
// Hugging Face processors applied in HF order
//   repetition penalty -> presence penalty -> temperature -> top-k -> top-p -> min-p.
// Works on the full 151936-entry vocabulary without sorting it per token: top-k uses
// nth_element, top-p without top-k sorts only a growing prefix of the candidates.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace kantu::runtime {

struct SamplingParams {
  float temperature = 1.0f;         // 0 = greedy (argmax after the penalties)
  int top_k = 0;                    // 0 = off
  float top_p = 1.0f;               // 1 = off; (0, 1]
  float min_p = 0.0f;               // 0 = off; [0, 1]
  float repetition_penalty = 1.0f;  // HF: positive logits / r, negative * r, for every seen token
  float presence_penalty = 0.0f;    // OpenAI: minus p once for every token already generated
  uint64_t seed = 0;

  bool greedy() const { return temperature == 0.0f; }
};

// Throws Error(kInvalidArgument) naming the field for out-of-range values.
void validate(const SamplingParams& params);

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params);  // validates

  // Chooses a token. `logits` is modified (penalties, temperature) and used as scratch.
  // `seen` = prompt + generated ids (repetition penalty, HF semantics);
  // `generated` = generated ids only (presence penalty, OpenAI/vLLM semantics).
  int32_t sample(std::span<float> logits, std::span<const int32_t> seen,
                 std::span<const int32_t> generated);

  const SamplingParams& params() const { return params_; }

  struct Candidate {
    float logit;
    int32_t id;
  };

  // Uniform double in [0, 1) from the seeded engine (53 random bits), the same on
  // every platform, unlike std::uniform_real_distribution.
  double uniform();

 private:
  void apply_penalties(std::span<float> logits, std::span<const int32_t> seen,
                       std::span<const int32_t> generated);
  // Fills candidates_ with the ids that survive top-k, top-p and min-p (best first
  // when top-k or top-p sorted them, else in id order) and probs_ with their
  // renormalised probabilities.
  void select_candidates(std::span<const float> logits);

  SamplingParams params_;
  std::mt19937_64 engine_;
  std::vector<Candidate> candidates_;
  std::vector<double> probs_;        // probability of candidates_[i]
  std::vector<uint8_t> mark_;        // [vocab] scratch for de-duplicating penalised ids
};

// Index of the largest value; the first one on ties (like torch.argmax).
int32_t argmax(std::span<const float> values);

}  // namespace kantu::runtime
