// kantu eval run (-m MODEL_DIR | --endpoint URL[,URL...] --model NAME [--concurrency N])
//                --annotations COCO.json --images DIR [--limit N] [--prompt ".."]
//                [--max-tokens N] [--threads T] [--shard K/N|auto] --out RUN_DIR
#include <iostream>
#include <memory>

#include "cli/eval_commands.h"
#include "cli/model_arg.h"
#include "cli/weight_flags.h"
#include "core/error.h"
#include "eval/endpoint_backend.h"
#include "eval/local_backend.h"
#include "eval/runner.h"

namespace kantu::cli {

namespace {

std::string joined(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : ",") + p;
  return out;
}

}  // namespace

void add_eval_run_command(CLI::App& eval) {
  struct Options {
    eval::RunOptions run;
    std::string model_dir, mmproj, model, shard, model_as_given, name;
    std::vector<std::string> endpoints;
    int threads = 0;
    int retries = 9;
    WeightFlags weights;
    double timeout_s = 300;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = eval.add_subcommand("run", "Caption every image of a COCO annotation file (resumable)");
  auto* m = add_model_options(cmd, "-m,--model-dir", &opts->model_dir, &opts->mmproj,
                              "local model folder or GGUF file", &opts->model_as_given);
  cmd->add_option("--name", opts->name,
                  "the local model's name in the run and the report (default: the last part of -m as given)")
      ->needs(m);
  auto* e = cmd->add_option("--endpoint", opts->endpoints,
                            "OpenAI-compatible server(s), e.g. http://10.0.0.5:8080,http://10.0.0.6:8080")
                ->delimiter(',');
  m->excludes(e);
  cmd->add_option("--model", opts->model, "model name to send to the endpoint");
  cmd->add_option("--concurrency", opts->run.concurrency,
                  "requests in flight at once, spread over the endpoints (least outstanding)")
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--retries", opts->retries,
                  "retries of a failed request (refused, reset, timeout, 429/502/503/504), "
                  "on another endpoint when there is one")
      ->check(CLI::Range(0, 1000))->capture_default_str();
  cmd->add_option("--annotations", opts->run.annotations, "COCO captions annotation file")->required();
  cmd->add_option("--images", opts->run.images_dir, "folder holding the images' file_name")->required();
  cmd->add_option("--limit", opts->run.limit, "only the first N images (0 = all)");
  cmd->add_option("--prompt", opts->run.prompt, "instruction sent with each image");
  cmd->add_option("--max-tokens", opts->run.max_tokens, "longest caption in tokens");
  cmd->add_option("--threads", opts->threads, "compute threads of the local engine (0 = all)");
  add_weight_flags(cmd, &opts->weights);
  cmd->add_option("--shard", opts->shard,
                  "run part K of N (e.g. 2/4), or auto: from JOB_COMPLETION_INDEX/JOB_COMPLETIONS "
                  "(Kubernetes) or SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT; join with `eval merge`");
  cmd->add_option("--timeout", opts->timeout_s, "seconds per endpoint request");
  cmd->add_option("--out", opts->run.out_dir, "run directory (resumed if it exists)")->required();
  cmd->callback([opts] {
    if (!opts->shard.empty()) opts->run.shard = eval::resolve_shard(opts->shard);
    std::unique_ptr<eval::CaptionBackend> backend;
    eval::EndpointBackend* endpoints = nullptr;
    if (!opts->endpoints.empty()) {
      eval::EndpointOptions eo;
      eo.urls = opts->endpoints;
      eo.model = opts->model;
      eo.timeout_s = opts->timeout_s;
      eo.max_attempts = opts->retries + 1;
      auto b = eval::make_endpoint_backend(eo);
      for (const std::string& w : b->check_reachable())
        std::cerr << "eval run: warning: endpoint not answering, resting it for now: " << w << "\n";
      endpoints = b.get();
      backend = std::move(b);
      opts->run.endpoint = joined(opts->endpoints);
    } else if (!opts->model_dir.empty()) {
      const std::string name = opts->name.empty() ? eval::model_label(opts->model_as_given) : opts->name;
      backend = eval::make_local_backend(opts->model_dir, name, opts->threads,
                                         weight_options(opts->weights), opts->mmproj);
    } else {
      fail(ErrorKind::kInvalidArgument, "eval run: give -m MODEL_DIR or --endpoint URL --model NAME");
    }
    eval::RunSummary s = eval::run_captioning(*backend, opts->run);
    Json out = {{"run_dir", opts->run.out_dir},
                {"shard", std::to_string(opts->run.shard.k) + "/" + std::to_string(opts->run.shard.n)},
                {"planned", s.planned},
                {"resumed", s.resumed},
                {"captioned", s.captioned},
                {"dropped_torn_line", s.dropped_torn_line},
                {"metrics", s.metrics}};
    if (endpoints) {
      Json list = Json::array();
      for (const eval::EndpointPool::Stats& st : endpoints->endpoint_stats()) {
        list.push_back({{"url", st.name},
                        {"requests", st.requests},
                        {"succeeded", st.succeeded},
                        {"failed", st.failed},
                        {"times_down", st.times_down}});
      }
      out["endpoints"] = list;
      out["retries"] = endpoints->retries();
    }
    std::cout << out.dump(1) << "\n";
  });
}

}  // namespace kantu::cli
