// LLaVA-1.5 and LLaVA-NeXT against the transformers goldens (goldens/llava/<model>/), end
// to end through kantu's own pipeline: the chat template, the tokenizer, the image
// processor, the CLIP tower, the projector, the anyres packing and the Llama decoder.
//   vision/*: embeddings_out, every CLIP hidden state the model uses, projector_out and
//     the packed image features, per tile;
//   full_model/*: the prompt ids, the image features, per-layer hidden states and
//     final-norm output at the stored rows, the logits rows and the 20 greedy ids.
// Tolerances (goldens/llava/*/tolerances.json: float32 against an independent float64
// run moves CLIP states by 4e-6, the projector by 2e-7 and text logits by 1e-5): absolute
// 2e-5 on vision tensors, row-relative 1e-4 on text tensors and logits (the Qwen3-VL
// criterion). Greedy ids must be identical up to a step whose golden top-1/top-2 margin is
// below 1e-4 (a tie within float32 noise).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <ostream>

#include "conformance/golden.h"
#include "runtime/generate.h"
#include "support/gguf_pair.h"
#include "support/testdata.h"
#include "text/chat_messages.h"

namespace kantu {
namespace {

constexpr double kVisionTol = 2e-5;
constexpr double kTextTol = 1e-4;
constexpr double kTieMargin = 1e-4;

struct LlavaModel {
  const char* golden;  // goldens/llava/<golden>
  const char* folder;  // models/<folder>
};
constexpr LlavaModel kNext{"next-tiny-a", "llava-next-tiny-a"};
constexpr LlavaModel k15{"15-tiny-a", "llava15-tiny-a"};

// The model from its folder, or (gguf) from the pair llama.cpp's converters write for it
// (support/gguf_pair.h, F16 as the checkpoint): tokenizer, chat template, processor
// settings and weights then all come from the two GGUF files.
runtime::Engine& engine(const LlavaModel& m, bool gguf = false) {
  static std::map<std::string, std::unique_ptr<runtime::Engine>> cache;
  auto& slot = cache[std::string(m.folder) + (gguf ? ".gguf" : "")];
  if (slot) return *slot;
  const std::string folder = test::testdata(std::string("models/") + m.folder);
  if (!gguf) {
    slot = runtime::Engine::load(folder, 2);
  } else {
    const test::GgufPair pair = test::write_gguf_pair(folder, test::make_temp_dir("llava_gguf"), DType::kF16);
    slot = runtime::Engine::load(pair.model, 2, {}, pair.mmproj);
  }
  return *slot;
}

std::string golden(const LlavaModel& m, const std::string& rel) {
  return test::testdata(std::string("goldens/llava/") + m.golden + "/" + rel);
}

// The messages of a golden case with its images attached to the image parts, in order.
std::vector<text::Message> messages_of(const Json& meta) {
  text::OrderedJson messages = text::OrderedJson::parse(meta.at("messages").dump());
  size_t next = 0;
  for (auto& message : messages) {
    for (auto& part : message.at("content")) {
      if (part.value("type", "") != "image") continue;
      part["image"] = test::testdata("images/" + meta.at("images").at(next++).get<std::string>());
    }
  }
  return text::parse_messages(messages, "golden");
}

double max_abs_diff(const std::vector<float>& got, const TensorView& want) {
  EXPECT_EQ(static_cast<int64_t>(got.size()), want.numel()) << want.name;
  double worst = 0;
  for (size_t i = 0; i < got.size() && static_cast<int64_t>(i) < want.numel(); ++i) {
    worst = std::max(worst, std::fabs(double(got[i]) - double(want.as<float>()[i])));
  }
  return worst;
}

void check_vision(const LlavaModel& m, const std::string& name, int min_compared) {
  SCOPED_TRACE(name);
  const Json meta = read_json_file(golden(m, "vision/vision.json")).at(name);
  const SafetensorsFile want = SafetensorsFile::open(golden(m, "vision/" + name + ".safetensors"));
  runtime::Engine& e = engine(m);
  std::vector<text::Message> messages;
  text::Message user;
  user.role = "user";
  for (const Json& image : meta.at("images")) {
    text::ContentPart part;
    part.kind = text::ContentPart::Kind::kImage;
    part.image = test::testdata("images/" + image.get<std::string>());
    user.parts.push_back(part);
  }
  messages.push_back(user);
  const runtime::PreparedPrompt prompt = e.prepare(messages, {});
  std::vector<models::VisualInput> inputs;
  for (const runtime::PromptImage& img : prompt.images) inputs.push_back(models::visual_input(img.pre));
  models::Dumps dumps;
  const models::VisionOutput out = e.model().encode_images(inputs, &dumps);
  int compared = 0;
  for (const auto& [tensor, view] : want.tensors()) {
    if (view.dtype != DType::kF32) continue;  // image_sizes
    if (tensor == "tiles_pixel_values") {  // the processor's output, bit for bit
      std::vector<float> pixels;
      for (const runtime::PromptImage& img : prompt.images) {
        pixels.insert(pixels.end(), img.pre.pixel_values.begin(), img.pre.pixel_values.end());
      }
      EXPECT_EQ(max_abs_diff(pixels, view), 0.0);
      continue;
    }
    std::string ours = "vision." + tensor;
    if (tensor.rfind("vision_hidden_states.", 0) == 0) ours = "vision.hidden_states." + tensor.substr(21);
    if (!dumps.count(ours)) {
      // The last CLIP layer does not run when vision_feature_layer is -2: its state cannot
      // influence the model.
      EXPECT_EQ(tensor, "vision_hidden_states." + std::to_string(meta.at("num_vision_layers").get<int>()));
      continue;
    }
    const double diff = max_abs_diff(dumps.at(ours).data, view);
    EXPECT_LE(diff, kVisionTol) << tensor;
    std::printf("  %s %s: max |diff| %.3g\n", name.c_str(), tensor.c_str(), diff);
    ++compared;
  }
  EXPECT_GE(compared, min_compared);
  if (meta.contains("packed_tokens_per_image")) {
    EXPECT_EQ(out.tokens_per_image, meta.at("packed_tokens_per_image").get<std::vector<int64_t>>());
  }
}

TEST(LlavaVisionGolden, NextTilesProjectorAndPacking) {
  check_vision(kNext, "one_1024x768", 5);
  check_vision(kNext, "tall_160x288", 5);
}

TEST(LlavaVisionGolden, Llava15ProjectorAndFeatures) {
  check_vision(k15, "one_1024x768", 4);
  check_vision(k15, "batch_two_images", 4);
}

TEST(LlavaVisionGolden, BadInputsAreClearErrors) {
  models::Model& next = engine(kNext).model();
  models::Model& v15 = engine(k15).model();
  std::vector<float> pixels(static_cast<size_t>(6 * 3 * 336 * 336), 0.0f);
  const auto encode = [&](models::Model& m, models::VisualInput in) {
    try {
      m.encode_images({in});
      ADD_FAILURE() << "no error";
      return std::string();
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument) << e.what();
      return std::string(e.what());
    }
  };
  models::VisualInput in{pixels.data(), {1, 24, 24}};
  in.image_height = 768;
  in.image_width = 1024;
  EXPECT_NE(encode(next, in).find("its canvas takes 5"), std::string::npos);  // 1 tile, 5 needed
  in.grid = {5, 24, 23};
  EXPECT_NE(encode(next, in).find("must be (tiles, 24, 24)"), std::string::npos);
  in.grid = {5, 24, 24};
  in.image_height = 0;
  EXPECT_NE(encode(next, in).find("needs the image's size"), std::string::npos);
  EXPECT_NE(encode(v15, {pixels.data(), {2, 24, 24}}).find("one tile"), std::string::npos);
  EXPECT_NE(encode(v15, {nullptr, {1, 24, 24}}).find("no pixel values"), std::string::npos);
}

struct FullCase {
  LlavaModel model;
  const char* name;
  bool gguf;
};

// For gtest (ctest's listing, failures): "<folder> <name>[ gguf]", not the raw bytes.
void PrintTo(const FullCase& c, std::ostream* os) {
  *os << c.model.folder << ' ' << c.name << (c.gguf ? " gguf" : "");
}

class LlavaFullModel : public ::testing::TestWithParam<FullCase> {};

TEST_P(LlavaFullModel, IdsHiddenStatesLogitsAndGreedyTokens) {
  const auto& [m, name, gguf] = GetParam();
  const Json meta = read_json_file(golden(m, std::string("full_model/") + name + ".json"));
  const SafetensorsFile want = SafetensorsFile::open(golden(m, std::string("full_model/") + name + ".safetensors"));
  runtime::Engine& e = engine(m, gguf);
  models::Model& model = e.model();

  // The prompt: chat template, tokenizer, image token counts from the processor.
  const runtime::PreparedPrompt prompt = e.prepare(messages_of(meta), {});
  std::vector<int64_t> ids(prompt.ids.begin(), prompt.ids.end());
  ASSERT_EQ(ids, test::to_i64(want.get("input_ids")));

  std::vector<models::VisualInput> inputs;
  for (const runtime::PromptImage& img : prompt.images) inputs.push_back(models::visual_input(img.pre));
  models::VisionOutput vision;
  std::vector<const models::VisionOutput*> vision_list;
  if (!inputs.empty()) {
    vision = model.encode_images(inputs);
    vision_list.push_back(&vision);
    EXPECT_EQ(vision.tokens_per_image, meta.at("image_tokens_per_image").get<std::vector<int64_t>>());
    if (want.has("image_features")) {
      EXPECT_LE(max_abs_diff(vision.embeds, want.get("image_features")), kVisionTol);
    }
  }

  const int64_t L = static_cast<int64_t>(ids.size()), V = model.vocab_size(), H = model.hidden_size();
  auto seq = model.new_sequence(L + 32);
  std::vector<float> logits;
  models::Dumps dumps;
  model.prefill(*seq, prompt.ids, vision_list, {.all_logits = &logits, .dumps = &dumps});

  // Rows the golden keeps (all rows for short prompts, else the logits positions).
  const std::vector<int64_t> positions = test::to_i64(want.get("logits_positions"));
  const bool trimmed = want.get("final_norm_output").shape[0] != L;
  const auto rows_of = [&](const std::vector<float>& full) {
    if (!trimmed) return full;
    std::vector<float> out;
    for (int64_t p : positions) out.insert(out.end(), full.begin() + p * H, full.begin() + (p + 1) * H);
    return out;
  };
  int compared = 0;
  for (const auto& [tensor, view] : want.tensors()) {
    std::string ours;
    if (tensor.rfind("layer_input.", 0) == 0) ours = "text." + tensor;
    if (tensor.rfind("layer_output.", 0) == 0) ours = "text.hidden_states." + std::to_string(std::stoi(tensor.substr(13)) + 1);
    if (tensor == "final_norm_output") ours = "text.final_norm";
    if (tensor == "inputs_embeds") ours = "text.hidden_states.0";
    if (ours.empty()) continue;
    SCOPED_TRACE(tensor);
    ASSERT_TRUE(dumps.count(ours)) << "no dump " << ours;
    const std::vector<float> got = rows_of(dumps.at(ours).data);
    const int64_t rows = view.shape[0];
    ASSERT_EQ(static_cast<int64_t>(got.size()), view.numel());
    EXPECT_LE(test::max_row_relative_error(got.data(), view.as<float>(), rows, H), kTextTol);
    ++compared;
  }
  EXPECT_GE(compared, 6);
  const TensorView& want_logits = want.get("logits");
  for (size_t i = 0; i < positions.size(); ++i) {
    EXPECT_LE(test::max_row_relative_error(logits.data() + positions[i] * V, want_logits.as<float>() + i * V, 1, V),
              kTextTol)
        << "logits at position " << positions[i];
  }

  // Greedy tokens.
  const auto want_ids = meta.at("generated_ids").get<std::vector<int64_t>>();
  const auto margins = meta.at("greedy_top1_minus_top2").get<std::vector<double>>();
  for (size_t step = 0; step < want_ids.size(); ++step) {
    const int64_t got = test::argmax(seq->logits().data(), V);
    if (got != want_ids[step]) {
      EXPECT_LT(margins[step], kTieMargin) << "greedy token " << step << ": kantu " << got << ", golden "
                                           << want_ids[step];
      return;
    }
    if (step + 1 < want_ids.size()) model.decode(*seq, static_cast<int32_t>(got));
  }
}

std::string full_case_name(const ::testing::TestParamInfo<FullCase>& info) {
  return std::string(info.param.model.golden[0] == 'n' ? "next_" : "v15_") + info.param.name;
}

INSTANTIATE_TEST_SUITE_P(
    Llava, LlavaFullModel,
    ::testing::Values(FullCase{kNext, "text_only", false}, FullCase{kNext, "one_image", false},
                      FullCase{kNext, "two_images", false}, FullCase{k15, "text_only", false},
                      FullCase{k15, "one_image", false}, FullCase{k15, "two_images", false}),
    full_case_name);

// The same goldens through llama.cpp's GGUF pair of each tiny model.
INSTANTIATE_TEST_SUITE_P(
    LlavaGguf, LlavaFullModel,
    ::testing::Values(FullCase{kNext, "text_only", true}, FullCase{kNext, "one_image", true},
                      FullCase{kNext, "two_images", true}, FullCase{k15, "text_only", true},
                      FullCase{k15, "one_image", true}, FullCase{k15, "two_images", true}),
    full_case_name);

}  // namespace
}  // namespace kantu
