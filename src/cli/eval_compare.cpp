// kantu eval compare --model A --model B ... --endpoint NAME=URL ... --annotations F
//                    --images DIR --out DIR [--limit N] [--prompt ".."] [--max-tokens N]
//                    [--threads T] [--weights bf16|q8|q4 ...] [--timeout S]
#include <iostream>
#include <memory>

#include "cli/eval_commands.h"
#include "cli/weight_flags.h"
#include "core/error.h"
#include "core/mapped_file.h"
#include "core/run_child.h"
#include "eval/compare.h"

namespace kantu::cli {

void add_eval_compare_command(CLI::App& eval) {
  struct Options {
    eval::CompareOptions compare;
    std::vector<std::string> models, endpoints;
    WeightFlags weights;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = eval.add_subcommand(
      "compare", "Caption the same images with several models (each in its own process) and endpoints, "
                 "then write the comparison report (resumable)");
  cmd->add_option("--model", opts->models, "a local model: folder, GGUF file, or MODEL.gguf,MMPROJ.gguf (repeat)");
  cmd->add_option("--endpoint", opts->endpoints,
                  "an OpenAI-compatible server as NAME=URL[,URL...]; NAME is the model name it serves (repeat)");
  cmd->add_option("--annotations", opts->compare.annotations, "COCO captions annotation file")->required();
  cmd->add_option("--images", opts->compare.images_dir, "folder holding the images' file_name")->required();
  cmd->add_option("--out", opts->compare.out_dir, "output folder: runs/<model>/ and the report (resumed)")->required();
  cmd->add_option("--limit", opts->compare.limit, "only the first N images (0 = all)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--prompt", opts->compare.prompt, "instruction sent with each image")->capture_default_str();
  cmd->add_option("--max-tokens", opts->compare.max_tokens, "longest caption in tokens")->check(CLI::Range(1, 4096));
  cmd->add_option("--threads", opts->compare.threads, "compute threads of each local model (0 = all)")
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--timeout", opts->compare.timeout_s, "seconds per endpoint request")->check(CLI::PositiveNumber);
  add_weight_flags(cmd, &opts->weights);
  cmd->callback([opts] {
    eval::CompareOptions& c = opts->compare;
    c.models = eval::compare_models(opts->models, opts->endpoints);
    weight_options(opts->weights);  // checks the spelling before any run starts
    c.local_args = {"--weights", opts->weights.weights};
    if (!opts->weights.vision.empty()) c.local_args.insert(c.local_args.end(), {"--vision-weights", opts->weights.vision});
    if (!opts->weights.cache_dir.empty()) c.local_args.insert(c.local_args.end(), {"--cache-dir", opts->weights.cache_dir});
    c.kantu = self_executable();
    const std::vector<eval::CompareOutcome> outcomes = eval::run_compare(c);
    std::string failed;
    for (const eval::CompareOutcome& o : outcomes) {
      if (!o.finished) failed += (failed.empty() ? "" : ", ") + o.name + " (exit " + std::to_string(o.exit_code) + ")";
    }
    const std::string report = c.out_dir + "/report.md";
    if (file_exists(report)) std::cout << read_file(report);
    if (!failed.empty()) {
      fail(ErrorKind::kInternal, "eval compare: not finished: ", failed,
           "; the report covers the others. Run the same command again to resume.");
    }
  });
}

}  // namespace kantu::cli
