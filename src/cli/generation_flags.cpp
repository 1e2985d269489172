#include "cli/generation_flags.h"

#include "cli/model_arg.h"

namespace kantu::cli {

void add_generation_flags(CLI::App* cmd, GenerationFlags* f) {
  add_model_options(cmd, "-m,--model", &f->model, &f->mmproj,
                    "Model folder (Hugging Face layout) or GGUF model file")->required();
  f->n = cmd->add_option("-n,--max-new-tokens", f->max_new_tokens, "Tokens to generate at most")
             ->check(CLI::NonNegativeNumber);
  f->temperature_opt = cmd->add_option("--temperature", f->temperature, "0 = greedy")
                           ->check(CLI::NonNegativeNumber);
  f->top_k_opt = cmd->add_option("--top-k", f->top_k, "0 = off")->check(CLI::NonNegativeNumber);
  f->top_p_opt = cmd->add_option("--top-p", f->top_p, "Nucleus sampling mass, (0, 1]");
  f->min_p_opt = cmd->add_option("--min-p", f->min_p, "Drop tokens below min_p x best, [0, 1]");
  f->rep_opt = cmd->add_option("--repetition-penalty", f->repetition_penalty, "HF semantics, 1 = off");
  f->presence_opt = cmd->add_option("--presence-penalty", f->presence_penalty,
                                    "OpenAI semantics, [-2, 2], 0 = off");
  cmd->add_option("--seed", f->seed, "Sampling seed");
  cmd->add_option("--stop", f->stops, "Stop string (repeat for several)");
  cmd->add_option("--threads", f->threads, "Compute threads (0 = all cores)")
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--max-context", f->max_context, "Context size in tokens (prompt + answer)")
      ->check(CLI::PositiveNumber);
  add_weight_flags(cmd, &f->weights);
  cmd->add_option("--kv-cache-mb", f->kv_cache_mb,
                  "prefix KV cache in MiB: a turn that starts like an earlier one (the "
                  "conversation so far) prefills only what is new (0 = off)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 30))
      ->capture_default_str();
}

std::unique_ptr<runtime::Engine> load_runtime_engine(const GenerationFlags& f) {
  auto engine = runtime::Engine::load(f.model, f.threads, weight_options(f.weights), f.mmproj);
  if (f.kv_cache_mb > 0)
    engine->use_prefix_cache(std::make_shared<runtime::PrefixCache>(static_cast<size_t>(f.kv_cache_mb) << 20));
  return engine;
}

runtime::LoopOptions loop_options(const GenerationFlags& f,
                                  const runtime::GenerationDefaults& d) {
  runtime::LoopOptions o;
  o.stop_ids = d.stop_ids;
  o.max_new_tokens = f.n->count() ? f.max_new_tokens : d.max_new_tokens;
  o.stop_strings = f.stops;
  runtime::SamplingRequest given;
  if (f.temperature_opt->count()) given.temperature = f.temperature;
  if (f.top_k_opt->count()) given.top_k = f.top_k;
  if (f.top_p_opt->count()) given.top_p = f.top_p;
  if (f.min_p_opt->count()) given.min_p = f.min_p;
  if (f.rep_opt->count()) given.repetition_penalty = f.repetition_penalty;
  if (f.presence_opt->count()) given.presence_penalty = f.presence_penalty;
  given.seed = f.seed;
  o.sampling = runtime::sampling_params(d.sampling, given);
  return o;
}

}  // namespace kantu::cli
