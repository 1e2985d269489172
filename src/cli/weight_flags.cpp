#include "cli/weight_flags.h"

namespace kantu::cli {

void add_weight_flags(CLI::App* cmd, WeightFlags* flags) {
  cmd->add_option("--weights", flags->weights,
                  "Matrix type: bf16 (as stored), q8 (Q8_0) or q4 (Q4_0), converted once and cached")
      ->capture_default_str();
  cmd->add_option("--vision-weights", flags->vision,
                  "Matrix type of the vision tower (default: as --weights)");
  cmd->add_option("--cache-dir", flags->cache_dir,
                  "Folder for converted weights (default: <model>/.kantu, else ~/.cache/kantu)");
}

models::WeightOptions weight_options(const WeightFlags& flags) {
  models::WeightOptions o;
  o.text = models::parse_weight_type(flags.weights, "--weights");
  o.vision = flags.vision.empty() ? o.text
                                  : models::parse_weight_type(flags.vision, "--vision-weights");
  o.cache_dir = flags.cache_dir;
  return o;
}

}  // namespace kantu::cli
