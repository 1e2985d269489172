#include "models/blocks/qwen_vision.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"
#include "kernels/ops.h"
#include "models/blocks/pos_embed.h"
#include "models/blocks/rope.h"
#include "models/blocks/window_index.h"

namespace kantu::models::blocks {
namespace {

void dump(Dumps* dumps, const std::string& name, const float* data, int64_t rows, int64_t cols) {
  if (!dumps) return;
  DumpTensor& t = (*dumps)[name];
  t.shape = {rows, cols};
  t.data.assign(data, data + rows * cols);
}

// Grids checked, and their patch total.
int64_t check_inputs(const QwenVisionConfig& v, const std::vector<VisualInput>& images) {
  const int64_t m = v.spatial_merge_size;
  if (images.empty()) fail(ErrorKind::kInvalidArgument, "encode_images: no images given");
  int64_t total = 0;
  for (size_t i = 0; i < images.size(); ++i) {
    const GridTHW& g = images[i].grid;
    if (g.t <= 0 || g.h <= 0 || g.w <= 0 || g.h % m != 0 || g.w % m != 0) {
      fail(ErrorKind::kInvalidArgument, "image ", i, ": grid (", g.t, ", ", g.h, ", ", g.w,
           ") must be positive with h and w divisible by the merge size ", m);
    }
    if (g.h > kMaxVisionPatches || g.w > kMaxVisionPatches || g.t > kMaxVisionPatches ||
        g.patches() > kMaxVisionPatches || total + g.patches() > kMaxVisionPatches) {
      fail(ErrorKind::kTooLarge, "image ", i, ": ", total, " + (", g.t, "x", g.h, "x", g.w,
           ") patches exceed the limit of ", kMaxVisionPatches, " per encode call");
    }
    if (!images[i].pixel_values) fail(ErrorKind::kInvalidArgument, "image ", i, ": no pixel values");
    total += g.patches();
  }
  return total;
}

std::vector<float> as_floats(const std::vector<int64_t>& v) {
  return std::vector<float>(v.begin(), v.end());
}

}  // namespace

EncoderBlockSpec QwenVisionConfig::block_spec() const {
  EncoderBlockSpec s;
  s.hidden = hidden_size;
  s.heads = num_heads;
  s.head_dim = head_dim;
  s.inner = intermediate_size;
  s.norm = norm;
  s.norm_eps = norm_eps;
  s.mlp = mlp;
  return s;
}

MergerSpec QwenVisionConfig::merger_spec(bool deepstack) const {
  MergerSpec s;
  s.hidden = hidden_size;
  s.merge_unit = merge_unit();
  s.out = out_hidden_size;
  s.norm = deepstack ? NormKind::kLayer : merger_norm;
  s.norm_eps = norm_eps;
  s.postshuffle_norm = deepstack;
  return s;
}

namespace {

// qwen_vision_forward's state between pieces: the residual stream of every patch, its
// rotary tables and attention segments, and the next block to run.
class QwenVisionEncoding final : public ImageEncoding {
 public:
  QwenVisionEncoding(const QwenVisionConfig& v, const QwenVisionWeights& weights,
                     const std::vector<VisualInput>& images, ThreadPool* pool, Dumps* dumps)
      : v(v), weights(weights), pool(pool), dumps(dumps), N(check_inputs(v, images)),
        D(v.hidden_size), unit(v.merge_unit()), spec(v.block_spec()) {
    for (const VisualInput& img : images) {
      out.grids.push_back(img.grid);
      out.tokens_per_image.push_back(img.grid.patches() / unit);
      out.second_per_grid_t.push_back(img.second_per_grid_t);
    }
    out.n_tokens = N / unit;
    out.hidden = v.out_hidden_size;

    // Patch embedding (Conv3d with kernel = stride = one patch, i.e. a linear layer).
    h.resize(N * D);
    {
      int64_t row = 0;
      for (const VisualInput& img : images) {
        linear(img.pixel_values, img.grid.patches(), weights.patch_embed, h.data() + row * D, pool);
        row += img.grid.patches();
      }
    }
    dump(dumps, "vision.patch_embed_out", h.data(), N, D);
    if (v.pos_grid_side > 0) {
      std::vector<float> pos = interpolate_pos_embed(weights.pos_embed, v.pos_grid_side, D,
                                                     v.spatial_merge_size, out.grids);
      dump(dumps, "vision.pos_embeds_interpolated", pos.data(), N, D);
      kernels::add(h.data(), pos.data(), h.data(), N * D);
    }

    // Rotary angles per patch: pair (d, d + dh/2) rotates by angle[d], d < dh/2.
    const int64_t half = v.head_dim / 2;
    std::vector<float> angles = vision_rope_angles(v.head_dim, v.spatial_merge_size, out.grids);
    dump(dumps, "vision.rot_pos_emb", angles.data(), N, half);

    // Windowed towers run in window order (merged tokens regrouped window by window).
    if (v.window > 0) {
      plan = window_plan(out.grids, v.spatial_merge_size, v.window);
      permute_groups(h, plan.window_index, unit, D, false);
      permute_groups(angles, plan.window_index, unit, half, false);
      if (dumps) {
        dump(dumps, "vision.window_index", as_floats(plan.window_index).data(),
             static_cast<int64_t>(plan.window_index.size()), 1);
        std::vector<int64_t> cu = {0}, all = {0};  // window ends, without and with empty windows
        for (const Segment& s : plan.windows) {
          if (s.second > 0) cu.push_back(s.first + s.second);
          all.push_back(s.first + s.second);
        }
        dump(dumps, "vision.cu_window_seqlens", as_floats(cu).data(), int64_t(cu.size()), 1);
        dump(dumps, "vision.cu_window_seqlens_before_unique", as_floats(all).data(),
             int64_t(all.size()), 1);
      }
    }
    cos_t.resize(angles.size());
    sin_t.resize(angles.size());
    for (size_t i = 0; i < angles.size(); ++i) {
      cos_t[i] = std::cos(angles[i]);
      sin_t[i] = std::sin(angles[i]);
    }

    // Full attention: one segment per image and temporal slice (contiguous in both orders).
    {
      int64_t row = 0;
      for (const GridTHW& g : out.grids) {
        for (int64_t t = 0; t < g.t; ++t) {
          full.emplace_back(row, g.h * g.w);
          row += g.h * g.w;
        }
      }
    }

    scratch.allocate(spec, N);
    out.deepstack.resize(v.deepstack_visual_indexes.size());
  }

  bool step(int64_t blocks) override {
    if (done_) return true;
    for (const int64_t last = blocks > 0 ? std::min(v.depth, next + blocks) : v.depth; next < last; ++next) {
      const int64_t b = next;
      const bool windowed = v.window > 0 && std::find(v.fullatt_block_indexes.begin(),
                                                      v.fullatt_block_indexes.end(),
                                                      b) == v.fullatt_block_indexes.end();
      encoder_block_forward(spec, weights.blocks[b], h.data(), N, windowed ? plan.windows : full,
                            cos_t.data(), sin_t.data(), scratch, pool);
      dump(dumps, "vision.block_out." + std::to_string(b), h.data(), N, D);
      if (dumps && v.window > 0) {
        std::vector<float> natural = h;
        permute_groups(natural, plan.window_index, unit, D, true);
        dump(dumps, "vision.block_out_natural." + std::to_string(b), natural.data(), N, D);
      }
      for (size_t k = 0; k < v.deepstack_visual_indexes.size(); ++k) {
        if (v.deepstack_visual_indexes[k] != b) continue;
        out.deepstack[k] = patch_merge(v.merger_spec(true), weights.deepstack[k], h.data(), N, pool);
        if (v.window > 0) permute_groups(out.deepstack[k], plan.window_index, 1, out.hidden, true);
        dump(dumps, "vision.deepstack." + std::to_string(k), out.deepstack[k].data(), out.n_tokens,
             out.hidden);
      }
    }

    if (next < v.depth) return false;
    out.embeds = patch_merge(v.merger_spec(false), weights.merger, h.data(), N, pool);
    if (v.window > 0) permute_groups(out.embeds, plan.window_index, 1, out.hidden, true);
    dump(dumps, "vision.merger_out", out.embeds.data(), out.n_tokens, out.hidden);
    done_ = true;
    return true;
  }
  bool done() const override { return done_; }
  VisionOutput take() override {
    KANTU_CHECK(done_, "vision encoding taken before it is done");
    return std::move(out);
  }

 private:
  const QwenVisionConfig& v;
  const QwenVisionWeights& weights;
  ThreadPool* pool;
  Dumps* dumps;
  const int64_t N, D, unit;
  const EncoderBlockSpec spec;
  VisionOutput out;
  std::vector<float> h, cos_t, sin_t;
  WindowPlan plan;
  std::vector<Segment> full;
  EncoderScratch scratch;
  int64_t next = 0;  // block
  bool done_ = false;
};

}  // namespace

VisionOutput qwen_vision_forward(const QwenVisionConfig& v, const QwenVisionWeights& weights,
                                 const std::vector<VisualInput>& images, ThreadPool* pool,
                                 Dumps* dumps) {
  QwenVisionEncoding encoding(v, weights, images, pool, dumps);
  encoding.step(0);
  return encoding.take();
}

std::unique_ptr<ImageEncoding> qwen_vision_begin(const QwenVisionConfig& v,
                                                 const QwenVisionWeights& weights,
                                                 const std::vector<VisualInput>& images,
                                                 ThreadPool* pool, Dumps* dumps) {
  return std::make_unique<QwenVisionEncoding>(v, weights, images, pool, dumps);
}

void qwen_vision_matrices(QwenVisionWeights& w, std::vector<NamedMatrix>& out) {
  out.push_back({"vision.patch_embed", &w.patch_embed.w});
  for (size_t i = 0; i < w.blocks.size(); ++i) {
    const std::string pre = "vision.blocks." + std::to_string(i) + ".";
    EncoderBlockWeights& b = w.blocks[i];
    if (b.fused()) {
      out.push_back({pre + "qkv", &b.qkv.w});
    } else {
      out.push_back({pre + "q", &b.q.w});
      out.push_back({pre + "k", &b.k.w});
      out.push_back({pre + "v", &b.v.w});
    }
    out.push_back({pre + "proj", &b.proj.w});
    if (b.mlp.gate.w.data != nullptr) {
      out.push_back({pre + "gate", &b.mlp.gate.w});
      out.push_back({pre + "up", &b.mlp.up.w});
      out.push_back({pre + "down", &b.mlp.down.w});
    } else {
      out.push_back({pre + "fc1", &b.mlp.up.w});
      out.push_back({pre + "fc2", &b.mlp.down.w});
    }
  }
  out.push_back({"vision.merger.fc1", &w.merger.fc1.w});
  out.push_back({"vision.merger.fc2", &w.merger.fc2.w});
  for (size_t k = 0; k < w.deepstack.size(); ++k) {
    const std::string pre = "vision.deepstack." + std::to_string(k) + ".";
    out.push_back({pre + "fc1", &w.deepstack[k].fc1.w});
    out.push_back({pre + "fc2", &w.deepstack[k].fc2.w});
  }
}

void add_qwen_vision_costs(const QwenVisionConfig& c, const QwenVisionWeights& w, ModelCosts& out) {
  auto macs = [](const Linear& l) { return static_cast<double>(l.w.rows * l.w.cols); };
  out.vision_macs_per_patch = macs(w.patch_embed);
  for (const EncoderBlockWeights& b : w.blocks) {
    out.vision_macs_per_patch += (b.fused() ? macs(b.qkv) : macs(b.q) + macs(b.k) + macs(b.v)) +
                                 macs(b.proj) + macs(b.mlp.up) + macs(b.mlp.down);
    if (b.mlp.gate.w.data != nullptr) out.vision_macs_per_patch += macs(b.mlp.gate);
  }
  out.vision_macs_per_token = macs(w.merger.fc1) + macs(w.merger.fc2);
  for (const MergerWeights& m : w.deepstack) out.vision_macs_per_token += macs(m.fc1) + macs(m.fc2);
  out.vision_attention_width = static_cast<double>(c.depth * c.hidden_size);
  out.vision_merge_unit = c.merge_unit();
}

size_t qwen_vision_scratch_bytes(const QwenVisionConfig& c, int64_t patches) {
  const int64_t D = c.hidden_size, unit = c.merge_unit();
  const int64_t inner = c.intermediate_size * (c.mlp.kind == MlpKind::kGated ? 2 : 1);
  // Per patch: the residual stream, the position table rows, a window permutation's copy,
  // the rotary angles with their cos and sin; the block scratch (normed, qkv, attn, tmp,
  // MLP); a merger's norm and hidden rows; every merger's output rows.
  const int64_t levels = static_cast<int64_t>(c.deepstack_visual_indexes.size()) + 1;
  const int64_t floats_per_patch = D * 3 + 3 * (c.head_dim / 2) + D * 6 + inner + D * 2 +
                                   levels * c.out_hidden_size / unit;
  return static_cast<size_t>(patches * floats_per_patch) * sizeof(float);
}

}  // namespace kantu::models::blocks
