// The Model / Sequence API on the tiny checkpoint: bad input is refused with a typed
// error before any state changes, and the ways of feeding tokens (one prefill, chunked
// prefills, decode, batched decode) agree with each other.
#include "models/model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "core/error.h"
#include "models/qwen3vl/config.h"
#include "support/testdata.h"

namespace kantu::models {
namespace {

Model& tiny() {
  static std::unique_ptr<Model> model =
      Model::load(test::testdata("models/qwen3vl-tiny-a"), {.threads = 2});
  return *model;
}

template <typename Fn>
void expect_error(Fn&& fn, ErrorKind kind, const std::string& fragment) {
  try {
    fn();
    FAIL() << "expected an error mentioning '" << fragment << "'";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

// Largest |a - b| relative to max |b|.
double rel_diff(std::span<const float> a, std::span<const float> b) {
  EXPECT_EQ(a.size(), b.size());
  double m = 1e-12, d = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    m = std::max(m, std::fabs(double(b[i])));
    d = std::max(d, std::fabs(double(a[i]) - double(b[i])));
  }
  return d / m;
}

std::vector<int32_t> text_ids(int n, int32_t seed) {
  std::vector<int32_t> ids(n);
  for (int i = 0; i < n; ++i) ids[i] = (seed + 7919 * i) % 150000;
  return ids;
}

TEST(ModelApi, Basics) {
  Model& m = tiny();
  EXPECT_EQ(m.vocab_size(), 151936);
  EXPECT_EQ(m.hidden_size(), 64);
  EXPECT_EQ(m.patch_dim(), 1536);
  EXPECT_EQ(m.eos_ids(), (std::vector<int32_t>{151645, 151643}));
  EXPECT_EQ(m.image_token_id(), 151655);
  auto seq = m.new_sequence(16);
  EXPECT_EQ(seq->max_context(), 16);
  EXPECT_EQ(seq->length(), 0);
  EXPECT_TRUE(seq->logits().empty());
  // KV blocks come as the sequence grows, up to what admission control plans for.
  const size_t empty = seq->memory_bytes();
  m.prefill(*seq, text_ids(3, 1));
  EXPECT_EQ(seq->memory_bytes(), empty + m.kv_block_bytes());
  EXPECT_LE(seq->memory_bytes(), m.sequence_bytes(16));
  auto big = m.new_sequence(1000);
  m.prefill(*big, text_ids(200, 2));
  EXPECT_EQ(big->memory_bytes(), empty + 4 * m.kv_block_bytes());  // 200 tokens: 4 blocks of 64
  EXPECT_LT(big->memory_bytes(), m.sequence_bytes(1000));
}

TEST(ModelApi, RefusesBadInputBeforeAnyWork) {
  Model& m = tiny();
  expect_error([&] { m.new_sequence(0); }, ErrorKind::kInvalidArgument, "context length");
  expect_error([&] { m.new_sequence(m.max_context() + 1); }, ErrorKind::kInvalidArgument,
               "max_position_embeddings");
  auto seq = m.new_sequence(8);
  std::vector<int32_t> long_prompt = text_ids(9, 1);
  expect_error([&] { m.prefill(*seq, long_prompt); }, ErrorKind::kTooLarge, "does not fit");
  EXPECT_EQ(seq->length(), 0);
  std::vector<int32_t> bad = {1, 2, 151936};
  expect_error([&] { m.prefill(*seq, bad); }, ErrorKind::kInvalidArgument, "outside the vocabulary");
  std::vector<int32_t> negative = {-1};
  expect_error([&] { m.prefill(*seq, negative); }, ErrorKind::kInvalidArgument, "outside");
  expect_error([&] { m.prefill(*seq, {}); }, ErrorKind::kInvalidArgument, "no tokens");
  std::vector<int32_t> pads = {1, m.image_token_id(), 2};
  expect_error([&] { m.prefill(*seq, pads); }, ErrorKind::kInvalidArgument, "pad tokens");
  EXPECT_EQ(seq->length(), 0);

  // Vision output from a different shape of model.
  VisionOutput wrong;
  wrong.hidden = 3;
  expect_error([&] { m.prefill(*seq, pads, {&wrong}); }, ErrorKind::kInvalidArgument,
               "does not match");

  // A full sequence refuses one more token.
  std::vector<int32_t> fill = text_ids(8, 3);
  m.prefill(*seq, fill);
  EXPECT_EQ(seq->length(), 8);
  expect_error([&] { m.decode(*seq, 5); }, ErrorKind::kTooLarge, "full");
  auto other = m.new_sequence(8);
  m.prefill(*other, std::span<const int32_t>(fill).first(1));
  Sequence* two[2] = {other.get(), other.get()};
  std::vector<int32_t> toks = {1, 2};
  expect_error([&] { m.decode_batch(two, toks); }, ErrorKind::kInvalidArgument, "repeated");
  EXPECT_EQ(other->length(), 1);
  std::vector<int32_t> one_tok = {1};
  expect_error([&] { m.decode_batch(two, one_tok); }, ErrorKind::kInvalidArgument, "2 sequences");
  EXPECT_EQ(seq->length(), 8);
}

TEST(ModelApi, EncodeImagesValidatesGrids) {
  Model& m = tiny();
  std::vector<float> pixels(16 * m.patch_dim(), 0.1f);
  expect_error([&] { m.encode_images({}); }, ErrorKind::kInvalidArgument, "no images");
  expect_error([&] { m.encode_images({{pixels.data(), {1, 3, 4}}}); },
               ErrorKind::kInvalidArgument, "divisible");
  expect_error([&] { m.encode_images({{pixels.data(), {1, 0, 4}}}); },
               ErrorKind::kInvalidArgument, "positive");
  expect_error([&] { m.encode_images({{nullptr, {1, 4, 4}}}); }, ErrorKind::kInvalidArgument,
               "no pixel values");
  expect_error([&] { m.encode_images({{pixels.data(), {1, 1 << 20, 1 << 20}}}); },
               ErrorKind::kTooLarge, "limit");
  VisionOutput out = m.encode_images({{pixels.data(), {1, 4, 4}}});
  EXPECT_EQ(out.n_tokens, 4);
  EXPECT_EQ(out.embeds.size(), 4u * 64);
  EXPECT_EQ(out.deepstack.size(), 2u);

  // The image's pads take its rows; positions continue after the image.
  auto seq = m.new_sequence(32);
  const int32_t pad = m.image_token_id();
  std::vector<int32_t> ids = {151644, m.vision_start_token_id(), pad, pad, pad, pad,
                              m.vision_end_token_id(), 872};
  m.prefill(*seq, ids, {&out});
  EXPECT_EQ(seq->length(), 8);
  EXPECT_EQ(seq->next_position(), 2 + 2 + 2);  // 2 text, image advances max(2, 2), 2 text
  EXPECT_EQ(seq->rope_delta(), 6 - 8);
}

TEST(ModelApi, ChunkedPrefillMatchesOnePrefill) {
  Model& m = tiny();
  // 260 tokens: one call is split internally at 256 rows; two calls split at 130.
  std::vector<int32_t> ids = text_ids(260, 11);
  auto whole = m.new_sequence(300);
  m.prefill(*whole, ids);
  auto parts = m.new_sequence(300);
  m.prefill(*parts, std::span<const int32_t>(ids).first(130));
  m.prefill(*parts, std::span<const int32_t>(ids).subspan(130));
  EXPECT_EQ(parts->length(), 260);
  EXPECT_EQ(parts->next_position(), 260);
  EXPECT_LE(rel_diff(parts->logits(), whole->logits()), 1e-5);

  // Decode after both agrees too, and a cleared sequence reproduces the first run.
  std::span<const float> l = m.decode(*whole, 42);
  std::vector<float> after_whole(l.begin(), l.end());
  EXPECT_LE(rel_diff(m.decode(*parts, 42), after_whole), 1e-5);
  whole->clear();
  EXPECT_EQ(whole->length(), 0);
  m.prefill(*whole, ids);
  EXPECT_LE(rel_diff(m.decode(*whole, 42), after_whole), 1e-6);
}

TEST(ModelApi, PromptChunksMayEndInsideAnImage) {
  Model& m = tiny();
  std::vector<float> pixels(64 * m.patch_dim());
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = std::sin(0.01f * float(i));
  VisionOutput out = m.encode_images({{pixels.data(), {1, 8, 8}}});  // 16 image tokens
  const int32_t pad = m.image_token_id();
  std::vector<int32_t> ids = {151644, 872, m.vision_start_token_id()};
  ids.insert(ids.end(), 16, pad);
  for (int32_t t : {m.vision_end_token_id(), 1000, 2000, 3000}) ids.push_back(t);
  auto whole = m.new_sequence(64);
  m.prefill(*whole, ids, {&out});

  const PromptLayout prompt = m.layout_prompt(ids, prompt_visuals({&out}));
  EXPECT_EQ(prompt.next_pos, whole->next_position());
  auto chunked = m.new_sequence(64);
  for (auto [b, e] : {std::pair<int64_t, int64_t>{0, 5}, {5, 12}, {12, 13}, {13, prompt.size()}}) {
    m.prefill_chunk(*chunked, prompt, b, e);
    EXPECT_EQ(chunked->length(), e);
    EXPECT_EQ(chunked->logits().empty(), e < prompt.size()) << "logits only when the prompt ends";
  }
  EXPECT_EQ(chunked->next_position(), whole->next_position());
  EXPECT_LE(rel_diff(chunked->logits(), whole->logits()), 1e-5);
  EXPECT_LE(rel_diff(m.decode(*chunked, 7), m.decode(*whole, 7)), 1e-5);

  // A chunk must start where the sequence ends, and image rows must be there.
  auto other = m.new_sequence(64);
  expect_error([&] { m.prefill_chunk(*other, prompt, 5, 8); }, ErrorKind::kInvalidArgument,
               "holds 0 tokens");
  expect_error([&] { m.prefill_chunk(*other, prompt, 0, 99); }, ErrorKind::kInvalidArgument,
               "chunk");
  std::vector<PromptVisual> no_rows = {{out.grids[0], 16}};
  const PromptLayout blind = m.layout_prompt(ids, no_rows);
  m.prefill_chunk(*other, blind, 0, 3);  // text only: fine
  expect_error([&] { m.prefill_chunk(*other, blind, 3, 6); }, ErrorKind::kInvalidArgument,
               "without its image rows");
  EXPECT_EQ(other->length(), 3);
}

TEST(ModelApi, SharedKvBlocksContinueLikeTheSequenceTheyCameFrom) {
  Model& m = tiny();
  ASSERT_EQ(m.kv_block_tokens(), 64);
  std::vector<int32_t> ids = text_ids(150, 21);  // blocks of 64 + 64 + 22 tokens
  const PromptLayout prompt = m.layout_prompt(ids, {});
  auto a = m.new_sequence(200);
  m.prefill_chunk(*a, prompt, 0, prompt.size());
  std::vector<float> want(a->logits().begin(), a->logits().end());
  std::vector<KvBlockPtr> shared;
  for (int64_t i = 0; i < 3; ++i) shared.push_back(m.share_kv_block(*a, i));
  // `a` goes on writing into its last block after sharing it.
  std::span<const float> after = m.decode(*a, 99);
  std::vector<float> a_next(after.begin(), after.end());
  m.decode(*a, 5);

  for (int64_t rows : {1, 64, 100, 128, 149}) {
    SCOPED_TRACE(rows);
    auto b = m.new_sequence(200);
    const int64_t n_blocks = (rows + 63) / 64;
    m.attach_kv(*b, std::span<const KvBlockPtr>(shared).first(n_blocks), rows);
    EXPECT_EQ(b->length(), rows);
    m.prefill_chunk(*b, prompt, rows, prompt.size());
    // Few rows run the decode GEMV, many the GEMM: float rounding apart (golden tolerance).
    EXPECT_LE(rel_diff(b->logits(), want), 1e-4);
    EXPECT_EQ(b->next_position(), 150);
    // b writes after the shared rows without disturbing a's rows, and vice versa.
    EXPECT_LE(rel_diff(m.decode(*b, 99), a_next), 1e-5);
  }

  // Bad attachments are refused before anything changes.
  auto c = m.new_sequence(100);
  expect_error([&] { m.attach_kv(*c, shared, 150); }, ErrorKind::kInvalidArgument, "attach");
  expect_error([&] { m.attach_kv(*c, std::span<const KvBlockPtr>(shared).first(1), 65); },
               ErrorKind::kInvalidArgument, "attach");
  EXPECT_EQ(c->length(), 0);
  auto other_model = Model::load(test::testdata("models/qwen3vl-tiny-a"), {.threads = 1});
  auto d = other_model->new_sequence(100);
  expect_error([&] { other_model->attach_kv(*d, std::span<const KvBlockPtr>(shared).first(1), 10); },
               ErrorKind::kInvalidArgument, "another model");
  m.prefill(*c, text_ids(3, 1));
  expect_error([&] { m.attach_kv(*c, std::span<const KvBlockPtr>(shared).first(1), 10); },
               ErrorKind::kInvalidArgument, "not empty");
  c->clear();
  m.attach_kv(*c, std::span<const KvBlockPtr>(shared).first(1), 10);
  EXPECT_EQ(c->length(), 10);
}

TEST(ModelApi, DecodeOfLastTokenMatchesPrefillOfIt) {
  Model& m = tiny();
  std::vector<int32_t> ids = text_ids(12, 5);
  auto a = m.new_sequence(16);
  m.prefill(*a, ids);
  auto b = m.new_sequence(16);
  m.prefill(*b, std::span<const int32_t>(ids).first(11));
  m.decode(*b, ids.back());
  EXPECT_LE(rel_diff(b->logits(), a->logits()), 1e-5);
}

TEST(ModelApi, BatchedDecodeMatchesSeparateDecodes) {
  Model& m = tiny();
  std::vector<std::unique_ptr<Sequence>> batched, single;
  const int n = 3;
  for (int i = 0; i < n; ++i) {
    std::vector<int32_t> ids = text_ids(5 + 4 * i, 100 + i);  // different lengths
    batched.push_back(m.new_sequence(32));
    single.push_back(m.new_sequence(32));
    m.prefill(*batched.back(), ids);
    m.prefill(*single.back(), ids);
  }
  for (int step = 0; step < 3; ++step) {
    std::vector<Sequence*> seqs;
    std::vector<int32_t> toks;
    for (int i = 0; i < n; ++i) {
      seqs.push_back(batched[i].get());
      toks.push_back(1000 + 17 * i + step);
    }
    m.decode_batch(seqs, toks);
    for (int i = 0; i < n; ++i) {
      m.decode(*single[i], toks[i]);
      EXPECT_LE(rel_diff(batched[i]->logits(), single[i]->logits()), 1e-5)
          << "sequence " << i << " step " << step;
      EXPECT_EQ(batched[i]->length(), single[i]->length());
    }
  }
}

}  // namespace
}  // namespace kantu::models
