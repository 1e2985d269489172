#include "cli/weight_flags.h"

#include "core/error.h"

namespace kantu::cli {

void add_weight_flags(CLI::App* cmd, WeightFlags* flags) {
  cmd->add_option("--weights", flags->weights,
                  "Matrix type: bf16 (as stored), q8 (Q8_0) or q4 (Q4_0), converted once and cached")
      ->capture_default_str();
  cmd->add_option("--vision-weights", flags->vision,
                  "Matrix type of the vision tower (default: as --weights)");
  cmd->add_option("--cache-dir", flags->cache_dir,
                  "Folder for converted weights (default: <model>/.kantu, else ~/.cache/kantu)");
  cmd->add_option("--activations", flags->activations,
                  "Precision of the activations in matrix products: f32 (faithful; default for "
                  "float weights), bf16 (AVX-512 BF16 dot products), int8 (VNNI integer dot "
                  "products with quantized weights; their default)");
}

models::WeightOptions weight_options(const WeightFlags& flags) {
  models::WeightOptions o;
  o.text = models::parse_weight_type(flags.weights, "--weights");
  o.vision = flags.vision.empty() ? o.text
                                  : models::parse_weight_type(flags.vision, "--vision-weights");
  o.cache_dir = flags.cache_dir;
  if (!flags.activations.empty()) {
    kernels::Activations a;
    if (!kernels::parse_activations(flags.activations.c_str(), &a))
      fail(ErrorKind::kInvalidArgument, "--activations ", flags.activations,
           ": expected f32, bf16 or int8");
    o.activations = a;
  }
  return o;
}

}  // namespace kantu::cli
