// kantu synth (tiny shapes only: never the 2B model in CI) and kantu bench on it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/json.h"
#include "formats/safetensors.h"
#include "formats/weight_store.h"
#include "runtime/synth.h"
#include "support/testdata.h"

namespace kantu {
namespace {

namespace fs = std::filesystem;
using test::run_command;

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

test::CommandResult synth(const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {KANTU_EXE, "synth"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return run_command(argv);
}

TEST(SynthCli, TinyModelHasTheHubLayout) {
  const std::string dir = test::make_temp_dir("synth_tiny");
  const std::string out = dir + "/model";
  const std::string tok = test::testdata("models/qwen3vl-tiny-a");
  auto r = synth({"--like", "tiny", "--tokenizer-from", tok, "--out", out, "--seed", "7"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json report = parse_json(r.out, "synth output");
  EXPECT_EQ(report["shards"], 1);
  for (const char* f : {"config.json", "generation_config.json", "preprocessor_config.json",
                        "chat_template.json", "vocab.json", "merges.txt", "tokenizer_config.json",
                        "model.safetensors"})
    EXPECT_TRUE(fs::exists(out + "/" + f)) << f;
  EXPECT_FALSE(fs::exists(out + "/model.safetensors.index.json"));
  // no temporary folder left behind
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir)) entries += e.is_directory();
  EXPECT_EQ(entries, 1);

  const Json config = read_json_file(out + "/config.json");
  const auto expected = runtime::synth_tensors(config);
  const WeightStore store = WeightStore::open_folder(out);
  ASSERT_EQ(store.tensors().size(), expected.size());
  for (const auto& t : expected) {
    const TensorView& v = store.get(t.name);
    EXPECT_EQ(v.dtype, DType::kBF16);
    EXPECT_EQ(v.shape, t.shape) << t.name;
  }
  // values: norms are 1, matrices small with std near 0.02
  const auto norm = to_f32(store.get("model.language_model.norm.weight"));
  for (float x : norm) ASSERT_EQ(x, 1.0f);
  const auto q = to_f32(store.get("model.language_model.layers.0.self_attn.q_proj.weight"));
  double sum = 0, sq = 0;
  for (float x : q) {
    sum += x;
    sq += static_cast<double>(x) * x;
  }
  const double mean = sum / q.size(), sd = std::sqrt(sq / q.size() - mean * mean);
  EXPECT_NEAR(mean, 0.0, 0.002);
  EXPECT_NEAR(sd, 0.02, 0.002);
  const Json gen = read_json_file(out + "/generation_config.json");
  EXPECT_EQ(gen["eos_token_id"], Json({151645, 151643}));
}

TEST(SynthCli, ShardsWithAnIndexAndIsDeterministicAcrossThreadCounts) {
  const std::string dir = test::make_temp_dir("synth_shards");
  const std::string tok = test::testdata("models/qwen3vl-tiny-a");
  auto a = synth({"--like", "tiny", "--tokenizer-from", tok, "--out", dir + "/a", "--seed", "3",
                  "--max-shard-mb", "8", "--threads", "1"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  auto b = synth({"--like", "tiny", "--tokenizer-from", tok, "--out", dir + "/b", "--seed", "3",
                  "--max-shard-mb", "8", "--threads", "2"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const Json index = read_json_file(dir + "/a/model.safetensors.index.json");
  const Json report = parse_json(a.out, "synth output");
  ASSERT_GT(report["shards"].get<int>(), 1);
  EXPECT_EQ(index["metadata"]["total_size"], report["bytes"]);
  std::set<std::string> files;
  for (auto& [name, file] : index["weight_map"].items()) files.insert(file.get<std::string>());
  EXPECT_EQ(static_cast<int>(files.size()), report["shards"].get<int>());
  for (const std::string& f : files) {
    EXPECT_LE(fs::file_size(dir + "/a/" + f), 8'000'000u + 400'000'000u);  // one oversize tensor allowed
    EXPECT_EQ(read_bytes(dir + "/a/" + f), read_bytes(dir + "/b/" + f)) << f;
  }
  const WeightStore store = WeightStore::open_folder(dir + "/a");
  EXPECT_EQ(store.tensors().size(), index["weight_map"].size());
}

TEST(SynthCli, BadInputIsAClearError) {
  const std::string dir = test::make_temp_dir("synth_bad");
  const std::string tok = test::testdata("models/qwen3vl-tiny-a");
  auto r = synth({"--like", "qwen3-vl-1b", "--tokenizer-from", tok, "--out", dir + "/x"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("qwen3-vl-1b"), std::string::npos) << r.err;

  r = synth({"--like", "tiny", "--tokenizer-from", dir + "/nope", "--out", dir + "/y"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("tokenizer"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir + "/y"));  // nothing partial left

  fs::create_directory(dir + "/exists");
  r = synth({"--like", "tiny", "--tokenizer-from", tok, "--out", dir + "/exists"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("already exists"), std::string::npos) << r.err;

  test::write_text_file(dir + "/bad.json", "{\"text_config\": {}, \"vision_config\": {}}");
  r = synth({"--config", dir + "/bad.json", "--tokenizer-from", tok, "--out", dir + "/z"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("model_type"), std::string::npos) << r.err;  // which family?
  test::write_text_file(dir + "/bad.json",
                        "{\"model_type\": \"qwen3_vl\", \"text_config\": {}, \"vision_config\": {}}");
  r = synth({"--config", dir + "/bad.json", "--tokenizer-from", tok, "--out", dir + "/z"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("hidden_size"), std::string::npos) << r.err;

  r = synth({"--tokenizer-from", tok, "--out", dir + "/w"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--like"), std::string::npos) << r.err;
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir)) entries += e.is_directory();
  EXPECT_EQ(entries, 1);  // only "exists"
}

TEST(BenchCli, RunsOnASynthesizedTinyModel) {
  const std::string dir = test::make_temp_dir("bench_tiny");
  const std::string model = dir + "/model";
  auto r = synth({"--like", "tiny", "--tokenizer-from", test::testdata("models/qwen3vl-tiny-c"),
                  "--out", model});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_command({KANTU_EXE, "bench", "-m", model, "--image-size", "64", "--prompt-tokens", "100",
                   "--gen-tokens", "5", "--threads", "2", "--json", "--repeat", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json j = parse_json(r.out, "bench output");
  EXPECT_EQ(j["prompt_tokens"], 100);
  EXPECT_EQ(j["generated_tokens"], 5);  // stop ids ignored: exactly N
  EXPECT_EQ(j["runs"], 1);              // the first of two runs is a warm-up
  for (const char* key : {"image_ms", "prefill_tok_s", "decode_tok_s", "ttft_ms", "peak_rss_mb",
                          "image_gflop_s", "prefill_gflop_s", "decode_weight_gb_s"})
    EXPECT_GT(j[key].get<double>(), 0.0) << key;
  // The weight bytes one decoded token reads: every text matrix incl. lm_head, BF16.
  EXPECT_GT(j["decode_weight_bytes"].get<double>(), 2.0 * 151936 * 64);
  // This machine's peaks (AVX2 probes; absent on a CPU without AVX2).
  if (j.contains("machine")) {
    for (const char* key : {"read_gb_s", "fma_gflop_s", "int8_gop_s"})
      EXPECT_GT(j["machine"][key].get<double>(), 0.0) << key;
  }
  // text only, human-readable output, no probes
  r = run_command({KANTU_EXE, "bench", "-m", model, "--image-size", "0", "--gen-tokens", "3",
                   "--no-peaks"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("decode"), std::string::npos);
  EXPECT_NE(r.out.find("GB/s of weights"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("machine"), std::string::npos) << r.out;
  // bad input
  r = run_command({KANTU_EXE, "bench", "-m", dir + "/missing"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("missing"), std::string::npos) << r.err;
  r = run_command({KANTU_EXE, "bench", "-m", model, "--gen-tokens", "0"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("gen-tokens"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace kantu
