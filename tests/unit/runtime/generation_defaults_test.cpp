#include "runtime/generation_defaults.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace kantu::runtime {
namespace {

GenerationConfig sampling_config() {
  GenerationConfig g;
  g.do_sample = true;
  g.temperature = 0.1;
  g.top_k = 1;
  g.top_p = 0.001;
  g.min_p = 0.05;
  g.repetition_penalty = 1.05;
  g.presence_penalty = 0.5;
  g.max_new_tokens = 77;
  return g;
}

TEST(GenerationDefaults, TakeTheSamplingFieldsTransformersUses) {
  const GenerationDefaults d = generation_defaults(sampling_config(), {7, 9});
  EXPECT_FLOAT_EQ(d.sampling.temperature, 0.1f);
  EXPECT_EQ(d.sampling.top_k, 1);
  EXPECT_FLOAT_EQ(d.sampling.top_p, 0.001f);
  EXPECT_FLOAT_EQ(d.sampling.min_p, 0.05f);
  EXPECT_FLOAT_EQ(d.sampling.repetition_penalty, 1.05f);
  EXPECT_FLOAT_EQ(d.sampling.presence_penalty, 0.0f);  // ignored, as transformers ignores it
  EXPECT_EQ(d.max_new_tokens, 77);
  EXPECT_EQ(d.stop_ids, (std::vector<int32_t>{7, 9}));
}

TEST(GenerationDefaults, AModelThatDoesNotSampleIsGreedy) {
  GenerationConfig g = sampling_config();
  g.do_sample = false;
  g.max_new_tokens.reset();
  const GenerationDefaults d = generation_defaults(g, {});
  EXPECT_TRUE(d.sampling.greedy());
  EXPECT_EQ(d.max_new_tokens, 256);
}

TEST(GenerationDefaults, ARequestLeavingEverythingOutGetsTheModelsValues) {
  const SamplingParams defaults = generation_defaults(sampling_config(), {}).sampling;
  const SamplingParams s = sampling_params(defaults, {});
  EXPECT_EQ(s.temperature, defaults.temperature);
  EXPECT_EQ(s.top_k, defaults.top_k);
  EXPECT_EQ(s.top_p, defaults.top_p);
  EXPECT_EQ(s.min_p, defaults.min_p);
  EXPECT_EQ(s.repetition_penalty, defaults.repetition_penalty);
  EXPECT_EQ(s.presence_penalty, defaults.presence_penalty);
  EXPECT_EQ(s.seed, 0u);
}

TEST(GenerationDefaults, EachGivenValueWinsAndOnlyIt) {
  const SamplingParams defaults = generation_defaults(sampling_config(), {}).sampling;
  SamplingRequest r;
  r.temperature = 0.0f;  // an explicit 0 is a value, not "absent"
  r.top_p = 0.9f;
  r.seed = 42;
  SamplingParams s = sampling_params(defaults, r);
  EXPECT_EQ(s.temperature, 0.0f);
  EXPECT_EQ(s.top_p, 0.9f);
  EXPECT_EQ(s.seed, 42u);
  EXPECT_EQ(s.top_k, defaults.top_k);
  EXPECT_EQ(s.repetition_penalty, defaults.repetition_penalty);

  SamplingRequest rest;
  rest.top_k = 0;
  rest.min_p = 0.0f;
  rest.repetition_penalty = 1.0f;
  rest.presence_penalty = -1.5f;
  s = sampling_params(defaults, rest);
  EXPECT_EQ(s.top_k, 0);
  EXPECT_EQ(s.min_p, 0.0f);
  EXPECT_EQ(s.repetition_penalty, 1.0f);
  EXPECT_EQ(s.presence_penalty, -1.5f);
  EXPECT_EQ(s.temperature, defaults.temperature);
  EXPECT_EQ(s.top_p, defaults.top_p);
}

TEST(GenerationDefaults, AnOutOfRangeValueIsAnErrorNamingIt) {
  SamplingRequest r;
  r.top_p = 0.0f;
  try {
    sampling_params({}, r);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("top_p"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace kantu::runtime
