#include "models/qwen3vl/weight_plan.h"

#include <string>

#include "kernels/quant.h"

namespace kantu::models::qwen3vl {

std::vector<MatrixConversion> plan_conversions(Weights& weights, const WeightOptions& options) {
  std::vector<MatrixConversion> plan;
  auto add = [&](const std::string& name, kernels::WeightMatrix& m, DType target) {
    if (target == DType::kBF16 || !kernels::can_quantize_to(target)) return;
    const bool plain = m.dtype == DType::kF32 || m.dtype == DType::kF16 || m.dtype == DType::kBF16;
    if (!plain || m.cols % dtype_block_elems(target) != 0 || m.rows == 0) return;
    plan.push_back({name, &m, target});
  };

  VisionWeights& v = weights.vision;
  const DType vt = options.vision;
  add("vision.patch_embed", v.patch_embed.w, vt);
  for (size_t i = 0; i < v.blocks.size(); ++i) {
    const std::string pre = "vision.blocks." + std::to_string(i) + ".";
    add(pre + "qkv", v.blocks[i].qkv.w, vt);
    add(pre + "proj", v.blocks[i].proj.w, vt);
    add(pre + "fc1", v.blocks[i].fc1.w, vt);
    add(pre + "fc2", v.blocks[i].fc2.w, vt);
  }
  add("vision.merger.fc1", v.merger.fc1.w, vt);
  add("vision.merger.fc2", v.merger.fc2.w, vt);
  for (size_t k = 0; k < v.deepstack.size(); ++k) {
    const std::string pre = "vision.deepstack." + std::to_string(k) + ".";
    add(pre + "fc1", v.deepstack[k].fc1.w, vt);
    add(pre + "fc2", v.deepstack[k].fc2.w, vt);
  }

  TextWeights& t = weights.text;
  const DType tt = options.text;
  for (size_t i = 0; i < t.layers.size(); ++i) {
    const std::string pre = "text.layers." + std::to_string(i) + ".";
    TextLayerWeights& l = t.layers[i];
    add(pre + "q_proj", l.q_proj, tt);
    add(pre + "k_proj", l.k_proj, tt);
    add(pre + "v_proj", l.v_proj, tt);
    add(pre + "o_proj", l.o_proj, tt);
    add(pre + "gate_proj", l.gate_proj, tt);
    add(pre + "up_proj", l.up_proj, tt);
    add(pre + "down_proj", l.down_proj, tt);
  }
  // lm_head is a separate WeightMatrix even when tied (a copy of embed_tokens' view), so
  // converting it leaves embed_tokens' row lookup on the stored type.
  add("text.lm_head", t.lm_head, tt);
  return plan;
}

}  // namespace kantu::models::qwen3vl
