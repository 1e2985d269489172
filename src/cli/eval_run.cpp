// kantu eval run (-m MODEL_DIR | --endpoint URL --model NAME) --annotations COCO.json
//                --images DIR [--limit N] [--prompt ".."] [--max-tokens N] [--threads T]
//                [--shard K/N] --out RUN_DIR
#include <iostream>
#include <memory>

#include "cli/eval_commands.h"
#include "core/error.h"
#include "eval/endpoint_backend.h"
#include "cli/weight_flags.h"
#include "eval/local_backend.h"
#include "eval/runner.h"

namespace kantu::cli {

void add_eval_run_command(CLI::App& eval) {
  struct Options {
    eval::RunOptions run;
    std::string model_dir, mmproj, endpoint, model, shard;
    int threads = 0;
    WeightFlags weights;
    double timeout_s = 300;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = eval.add_subcommand("run", "Caption every image of a COCO annotation file (resumable)");
  auto* m = cmd->add_option("-m,--model-dir", opts->model_dir, "local model folder or GGUF file");
  cmd->add_option("--mmproj", opts->mmproj, "vision projector GGUF (mmproj) of a GGUF model file")
      ->needs(m);
  auto* e = cmd->add_option("--endpoint", opts->endpoint,
                            "OpenAI-compatible server, e.g. http://127.0.0.1:8080");
  m->excludes(e);
  cmd->add_option("--model", opts->model, "model name to send to the endpoint");
  cmd->add_option("--annotations", opts->run.annotations, "COCO captions annotation file")->required();
  cmd->add_option("--images", opts->run.images_dir, "folder holding the images' file_name")->required();
  cmd->add_option("--limit", opts->run.limit, "only the first N images (0 = all)");
  cmd->add_option("--prompt", opts->run.prompt, "instruction sent with each image");
  cmd->add_option("--max-tokens", opts->run.max_tokens, "longest caption in tokens");
  cmd->add_option("--threads", opts->threads, "compute threads of the local engine (0 = all)");
  add_weight_flags(cmd, &opts->weights);
  cmd->add_option("--shard", opts->shard, "run part K of N (e.g. 2/4); join with `eval merge`");
  cmd->add_option("--timeout", opts->timeout_s, "seconds per endpoint request");
  cmd->add_option("--out", opts->run.out_dir, "run directory (resumed if it exists)")->required();
  cmd->callback([opts] {
    if (!opts->shard.empty()) opts->run.shard = eval::parse_shard(opts->shard);
    std::unique_ptr<eval::CaptionBackend> backend;
    if (!opts->endpoint.empty()) {
      backend = eval::make_endpoint_backend({opts->endpoint, opts->model, opts->timeout_s});
      opts->run.endpoint = opts->endpoint;
    } else if (!opts->model_dir.empty()) {
      backend = eval::make_local_backend(opts->model_dir, opts->threads,
                                         weight_options(opts->weights), opts->mmproj);
    } else {
      fail(ErrorKind::kInvalidArgument, "eval run: give -m MODEL_DIR or --endpoint URL --model NAME");
    }
    eval::RunSummary s = eval::run_captioning(*backend, opts->run);
    Json out = {{"run_dir", opts->run.out_dir},
                {"planned", s.planned},
                {"resumed", s.resumed},
                {"captioned", s.captioned},
                {"dropped_torn_line", s.dropped_torn_line},
                {"metrics", s.metrics}};
    std::cout << out.dump(1) << "\n";
  });
}

}  // namespace kantu::cli
