// kantu synth: write a random-weight checkpoint of a known model in its real shapes.
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "cli/model_arg.h"
#include "core/error.h"
#include "core/json.h"
#include "runtime/synth.h"

namespace kantu::cli {

void add_synth_command(CLI::App& app) {
  struct Args {
    std::string like;
    std::string config;
    std::string tokenizer_from;
    std::string out;
    uint64_t seed = 0;
    int threads = 0;
    double max_shard_mb = 5000;
    std::string format = "safetensors";
    std::string gguf_type = "bf16";
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "synth", "Write a checkpoint with random weights in the real shapes of a known model");
  std::string shapes;
  for (const std::string& s : runtime::synth_shapes()) shapes += (shapes.empty() ? "" : ", ") + s;
  auto* like = cmd->add_option("--like", args->like, "Shape: " + shapes);
  auto* config_opt = cmd->add_option("--config", args->config, "Use this config.json instead")
                     ->check(CLI::ExistingFile);
  like->excludes(config_opt);
  add_model_options(cmd, "--tokenizer-from", &args->tokenizer_from, nullptr,
                    "Folder with the tokenizer files and chat template to copy")
      ->required();
  cmd->add_option("--out", args->out, "New output folder (must not exist)")->required();
  cmd->add_option("--seed", args->seed, "Random seed");
  cmd->add_option("--threads", args->threads, "Writer threads (0 = all cores)")
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--max-shard-mb", args->max_shard_mb,
                  "Largest safetensors file before sharding, in MB (HF default 5000)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--format", args->format,
                  "safetensors: a Hugging Face folder; gguf: model.gguf + mmproj.gguf in "
                  "llama.cpp's layout (same values for the same seed)")
      ->check(CLI::IsMember({"safetensors", "gguf"}));
  cmd->add_option("--gguf-type", args->gguf_type,
                  "Matrix type of the GGUF pair: bf16 (exact) or f16; quantize with llama-quantize")
      ->check(CLI::IsMember({"bf16", "f16"}));
  cmd->callback([args] {
    if (args->like.empty() && args->config.empty())
      fail(ErrorKind::kInvalidArgument, "synth needs --like SHAPE or --config FILE");
    const Json config =
        args->config.empty() ? runtime::synth_config(args->like) : read_json_file(args->config);
    runtime::SynthOptions options;
    options.seed = args->seed;
    options.threads = args->threads;
    options.max_shard_bytes = static_cast<int64_t>(args->max_shard_mb * 1e6);
    options.gguf_weights = args->gguf_type == "f16" ? DType::kF16 : DType::kBF16;
    const runtime::SynthReport r =
        args->format == "gguf"
            ? runtime::synthesize_gguf_pair(config, args->tokenizer_from, args->out, options)
            : runtime::synthesize_checkpoint(config, args->tokenizer_from, args->out, options);
    const Json out = {{"out", args->out},           {"tensors", r.tensors},
                      {"parameters", r.parameters}, {"bytes", r.bytes},
                      {"shards", r.shards},         {"seconds", r.seconds}};
    std::printf("%s\n", out.dump().c_str());
  });
}

}  // namespace kantu::cli
