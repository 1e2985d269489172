// The converted-weights cache: written once, mapped after; truncated, garbage or stale
// files are rebuilt; the bytes are what quantize_matrix produces.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "core/half.h"
#include "kernels/quant.h"
#include "models/weight_cache.h"
#include "support/testdata.h"

namespace kantu::models {
namespace {

namespace fs = std::filesystem;

struct Fixture {
  std::string model_dir, cache_dir;
  std::vector<uint16_t> a, b;  // bf16 [8, 64] and [4, 96]
  kernels::WeightMatrix ma, mb;

  explicit Fixture(const std::string& hint) {
    model_dir = test::make_temp_dir(hint);
    cache_dir = model_dir + "/cache";
    std::ofstream(model_dir + "/model.safetensors") << "stand-in weights file";
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> d(-1.f, 1.f);
    for (int i = 0; i < 8 * 64; ++i) a.push_back(f32_to_bf16(d(rng)));
    for (int i = 0; i < 4 * 96; ++i) b.push_back(f32_to_bf16(d(rng)));
    reset();
  }
  void reset() {
    ma = {DType::kBF16, 8, 64, a.data()};
    mb = {DType::kBF16, 4, 96, b.data()};
  }
  std::vector<MatrixConversion> plan() { return {{"a", &ma, DType::kQ8_0}, {"b", &mb, DType::kQ4_0}}; }
  CacheRequest request() const {
    return {.model_path = model_dir, .source_files = {}, .cache_dir = cache_dir, .tag = "q8-q4"};
  }

  void expect_converted() const {
    EXPECT_EQ(ma.dtype, DType::kQ8_0);
    EXPECT_EQ(mb.dtype, DType::kQ4_0);
    std::vector<uint8_t> want(dtype_bytes(DType::kQ8_0, 8 * 64));
    kernels::quantize_matrix({DType::kBF16, 8, 64, a.data()}, DType::kQ8_0, want.data(), nullptr);
    EXPECT_EQ(std::memcmp(want.data(), ma.data, want.size()), 0);
    want.assign(dtype_bytes(DType::kQ4_0, 4 * 96), 0);
    kernels::quantize_matrix({DType::kBF16, 4, 96, b.data()}, DType::kQ4_0, want.data(), nullptr);
    EXPECT_EQ(std::memcmp(want.data(), mb.data, want.size()), 0);
  }
};

TEST(WeightCache, WritesOnceThenMaps) {
  Fixture f("weight_cache_once");
  auto plan = f.plan();
  auto first = convert_weights(plan, f.request(), nullptr);
  EXPECT_FALSE(first->from_cache());
  ASSERT_TRUE(fs::exists(first->cache_path()));
  f.expect_converted();

  f.reset();
  auto plan2 = f.plan();
  auto second = convert_weights(plan2, f.request(), nullptr);
  EXPECT_TRUE(second->from_cache());
  EXPECT_EQ(second->cache_path(), first->cache_path());
  f.expect_converted();
  // No temporary files left behind.
  int files = 0;
  for (const auto& e : fs::directory_iterator(f.cache_dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
}

TEST(WeightCache, TruncatedOrGarbageFilesAreRebuilt) {
  Fixture f("weight_cache_bad");
  auto plan = f.plan();
  const std::string path = convert_weights(plan, f.request(), nullptr)->cache_path();
  const auto full = fs::file_size(path);
  for (uintmax_t size : {full - 100, uintmax_t{20}, uintmax_t{0}}) {
    fs::resize_file(path, size);
    f.reset();
    auto p = f.plan();
    auto again = convert_weights(p, f.request(), nullptr);
    EXPECT_FALSE(again->from_cache()) << "size " << size;
    f.expect_converted();
    EXPECT_EQ(fs::file_size(path), full);
  }
  std::ofstream(path, std::ios::trunc) << "not a safetensors file at all, just some text......";
  f.reset();
  auto p = f.plan();
  auto rebuilt = convert_weights(p, f.request(), nullptr);  // keeps the bytes mapped
  EXPECT_FALSE(rebuilt->from_cache());
  f.expect_converted();
}

TEST(WeightCache, ChangedSourcesOrOptionsMiss) {
  Fixture f("weight_cache_stale");
  auto plan = f.plan();
  const std::string first = convert_weights(plan, f.request(), nullptr)->cache_path();
  // Another target type for one matrix: another key, another file.
  f.reset();
  std::vector<MatrixConversion> other = {{"a", &f.ma, DType::kQ4_0}, {"b", &f.mb, DType::kQ4_0}};
  auto converted = convert_weights(other, f.request(), nullptr);
  EXPECT_FALSE(converted->from_cache());
  EXPECT_NE(converted->cache_path(), first);
  // The weight file changed (size and mtime): the old cache no longer matches.
  std::ofstream(f.model_dir + "/model.safetensors", std::ios::app) << " plus new bytes";
  f.reset();
  auto p = f.plan();
  auto after = convert_weights(p, f.request(), nullptr);
  EXPECT_FALSE(after->from_cache());
  EXPECT_NE(after->cache_path(), first);
  f.expect_converted();
}

TEST(WeightCache, TwoModelsInOneFolderKeepApart) {
  // Two GGUF files side by side with the same matrices: the key names the loaded file.
  Fixture f("weight_cache_two");
  std::ofstream(f.model_dir + "/a.gguf") << "model a";
  std::ofstream(f.model_dir + "/b.gguf") << "model b";
  CacheRequest ra = f.request(), rb = f.request();
  ra.source_files = {f.model_dir + "/a.gguf"};
  rb.source_files = {f.model_dir + "/b.gguf"};
  auto plan = f.plan();
  auto a = convert_weights(plan, ra, nullptr);
  f.reset();
  auto plan_b = f.plan();
  auto b = convert_weights(plan_b, rb, nullptr);
  EXPECT_FALSE(b->from_cache());
  EXPECT_NE(a->cache_path(), b->cache_path());
}

TEST(WeightCache, UnwritableCacheDirConvertsInMemory) {
  Fixture f("weight_cache_ro");
  std::ofstream(f.model_dir + "/blocker") << "a file where the cache folder would go";
  auto plan = f.plan();
  CacheRequest r = f.request();
  r.cache_dir = f.model_dir + "/blocker/sub";
  auto converted = convert_weights(plan, r, nullptr);
  EXPECT_FALSE(converted->from_cache());
  EXPECT_TRUE(converted->cache_path().empty());
  f.expect_converted();
}

}  // namespace
}  // namespace kantu::models
