#include "models/blocks/clip_vision.h"

#include <algorithm>
#include <string>

#include "core/error.h"
#include "kernels/ops.h"

namespace kantu::models::blocks {

namespace {

void dump(Dumps* dumps, const std::string& name, const std::vector<float>& data, int64_t tiles,
          int64_t rows, int64_t cols) {
  if (!dumps) return;
  DumpTensor& t = (*dumps)[name];
  t.shape = {tiles, rows, cols};
  t.data = data;
}

// Patches of one tile as rows [grid * grid, C*P*P] in the Conv2d weight's (c, ky, kx) order.
void gather_patches(const float* tile, const ClipVisionConfig& c, float* out) {
  const int64_t S = c.image_size, P = c.patch_size, G = c.grid();
  for (int64_t gy = 0; gy < G; ++gy) {
    for (int64_t gx = 0; gx < G; ++gx) {
      float* row = out + (gy * G + gx) * c.patch_dim();
      for (int64_t ch = 0; ch < c.num_channels; ++ch) {
        for (int64_t ky = 0; ky < P; ++ky) {
          const float* src = tile + (ch * S + gy * P + ky) * S + gx * P;
          std::copy_n(src, P, row + (ch * P + ky) * P);
        }
      }
    }
  }
}

}  // namespace

EncoderBlockSpec ClipVisionConfig::block_spec() const {
  EncoderBlockSpec s;
  s.hidden = hidden_size;
  s.heads = num_heads;
  s.head_dim = hidden_size / num_heads;
  s.inner = intermediate_size;
  s.norm = NormKind::kLayer;
  s.norm_eps = layer_norm_eps;
  s.mlp = {MlpKind::kPlain, act};
  return s;
}

ClipVisionWeights bind_clip_vision(const Binder& b, const ClipVisionConfig& c, const std::string& prefix,
                                   int64_t layers_needed) {
  const int64_t D = c.hidden_size, I = c.intermediate_size;
  ClipVisionWeights w;
  w.patch_embed = b.matrix(prefix + "embeddings.patch_embedding.weight",
                           {D, c.num_channels, c.patch_size, c.patch_size});
  w.class_embedding = b.vector(prefix + "embeddings.class_embedding", D);
  w.position_embedding = b.floats(prefix + "embeddings.position_embedding.weight", {c.positions(), D});
  w.pre_norm = b.norm(prefix + "pre_layrnorm.", D, true);
  for (int64_t i = 0; i < layers_needed; ++i) {
    const std::string p = prefix + "encoder.layers." + std::to_string(i) + ".";
    EncoderBlockWeights l;
    l.norm1 = b.norm(p + "layer_norm1.", D, true);
    l.norm2 = b.norm(p + "layer_norm2.", D, true);
    l.q = b.linear(p + "self_attn.q_proj.", D, D, true);
    l.k = b.linear(p + "self_attn.k_proj.", D, D, true);
    l.v = b.linear(p + "self_attn.v_proj.", D, D, true);
    l.proj = b.linear(p + "self_attn.out_proj.", D, D, true);
    l.mlp.up = b.linear(p + "mlp.fc1.", I, D, true);
    l.mlp.down = b.linear(p + "mlp.fc2.", D, I, true);
    w.layers.push_back(std::move(l));
  }
  return w;
}

std::vector<std::vector<float>> clip_vision_forward(const ClipVisionConfig& c, const ClipVisionWeights& w,
                                                    const float* pixels, int64_t tiles,
                                                    std::span<const int64_t> states, ThreadPool* pool,
                                                    Dumps* dumps) {
  const int64_t D = c.hidden_size, T = c.positions(), G2 = c.grid() * c.grid();
  const int64_t N = tiles * T;
  int64_t deepest = 0;
  for (int64_t k : states) {
    KANTU_CHECK(k >= 0 && k <= static_cast<int64_t>(w.layers.size()), "hidden state ", k, " not bound");
    deepest = std::max(deepest, k);
  }
  // Embeddings: class token, then the patches, plus the position table.
  std::vector<float> h(static_cast<size_t>(N * D));
  {
    std::vector<float> patches(static_cast<size_t>(G2 * c.patch_dim()));
    std::vector<float> embedded(static_cast<size_t>(G2 * D));
    const int64_t tile_values = c.num_channels * c.image_size * c.image_size;
    for (int64_t t = 0; t < tiles; ++t) {
      gather_patches(pixels + t * tile_values, c, patches.data());
      kernels::matmul(patches.data(), G2, w.patch_embed, nullptr, embedded.data(), pool);
      float* tile = h.data() + t * T * D;
      std::copy_n(w.class_embedding.data(), D, tile);
      std::copy_n(embedded.data(), G2 * D, tile + D);
      kernels::add(tile, w.position_embedding.data(), tile, T * D);
    }
  }
  dump(dumps, "vision.embeddings_out", h, tiles, T, D);
  apply_norm(NormKind::kLayer, w.pre_norm, h.data(), N, D, c.layer_norm_eps, h.data());

  std::vector<std::vector<float>> out(states.size());
  const auto keep = [&](int64_t k) {
    for (size_t i = 0; i < states.size(); ++i) {
      if (states[i] == k) out[i] = h;
    }
    dump(dumps, "vision.hidden_states." + std::to_string(k), h, tiles, T, D);
  };
  keep(0);
  std::vector<Segment> segments;
  for (int64_t t = 0; t < tiles; ++t) segments.push_back({t * T, T});
  const EncoderBlockSpec spec = c.block_spec();
  EncoderScratch scratch;
  scratch.allocate(spec, N);
  for (int64_t layer = 0; layer < deepest; ++layer) {
    encoder_block_forward(spec, w.layers[static_cast<size_t>(layer)], h.data(), N, segments, nullptr,
                          nullptr, scratch, pool);
    keep(layer + 1);
  }
  return out;
}

void clip_vision_matrices(ClipVisionWeights& w, std::vector<NamedMatrix>& out) {
  out.push_back({"vision.patch_embed", &w.patch_embed});
  for (size_t i = 0; i < w.layers.size(); ++i) {
    const std::string p = "vision.layers." + std::to_string(i) + ".";
    EncoderBlockWeights& l = w.layers[i];
    out.push_back({p + "q", &l.q.w});
    out.push_back({p + "k", &l.k.w});
    out.push_back({p + "v", &l.v.w});
    out.push_back({p + "o", &l.proj.w});
    out.push_back({p + "fc1", &l.mlp.up.w});
    out.push_back({p + "fc2", &l.mlp.down.w});
  }
}

}  // namespace kantu::models::blocks
