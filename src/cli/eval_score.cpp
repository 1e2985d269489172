// kantu eval score --annotations COCO.json --results RESULTS.json [--json] [--per-image F]
//                  [--tokenized] [--meteor-jar J] [--spice-jar J]
#include <fstream>
#include <iostream>
#include <memory>

#include "cli/eval_commands.h"
#include "core/error.h"
#include "core/json.h"
#include "eval/evaluate.h"

namespace kantu::cli {

void add_eval_score_command(CLI::App& eval) {
  struct Options {
    std::string annotations, results, per_image, meteor_jar, spice_jar;
    bool json = false, tokenized = false;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = eval.add_subcommand("score", "Score COCO-format caption results against annotations");
  cmd->add_option("--annotations", opts->annotations, "COCO captions annotation file")->required();
  cmd->add_option("--results", opts->results, "results: [{\"image_id\", \"caption\"}]")->required();
  cmd->add_flag("--json", opts->json, "print JSON instead of a table");
  cmd->add_option("--per-image", opts->per_image, "write per-image scores to this JSON file");
  cmd->add_flag("--tokenized", opts->tokenized, "captions are already PTB-tokenized");
  cmd->add_option("--meteor-jar", opts->meteor_jar, "meteor-1.5.jar (with its data/) to compute METEOR");
  cmd->add_option("--spice-jar", opts->spice_jar, "spice-1.0.jar (with its lib/) to compute SPICE");
  cmd->callback([opts] {
    eval::CocoAnnotations annotations = eval::read_coco_annotations(opts->annotations);
    std::vector<eval::CaptionResult> results = eval::read_coco_results(opts->results, annotations);
    eval::EvalOptions options{opts->tokenized, opts->meteor_jar, opts->spice_jar};
    eval::EvalResult result = eval::evaluate_captions(annotations, results, options);
    if (!opts->per_image.empty()) {
      std::ofstream out(opts->per_image);
      out << eval::eval_per_image_json(result).dump(1) << "\n";
      if (!out) fail(ErrorKind::kNotFound, "cannot write ", opts->per_image);
    }
    if (opts->json) {
      std::cout << eval::eval_summary_json(result).dump(1) << "\n";
    } else {
      std::cout << eval::eval_summary_text(result);
    }
  });
}

}  // namespace kantu::cli
