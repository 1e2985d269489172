#include "eval/shard.h"

#include <cstdlib>
#include <optional>

#include "core/error.h"

namespace kantu::eval {
namespace {

constexpr const char* kHowTo =
    "--shard auto reads JOB_COMPLETION_INDEX + JOB_COMPLETIONS (Kubernetes Indexed Job) or "
    "SLURM_ARRAY_TASK_ID + SLURM_ARRAY_TASK_COUNT (Slurm job array); give --shard K/N otherwise";

// The value of `name` as a whole number, nullopt when unset.
std::optional<long long> number(const EnvLookup& getenv, const char* name) {
  const char* v = getenv(name);
  if (!v) return std::nullopt;
  std::string text(v);
  size_t used = 0;
  long long x = 0;
  try {
    x = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (text.empty() || used != text.size())
    fail(ErrorKind::kInvalidArgument, "--shard auto: ", name, "='", text, "' is not a whole number");
  return x;
}

Shard checked(long long index0, long long count, const std::string& index_text,
              const std::string& count_text) {
  if (count < 1 || count > 1'000'000)
    fail(ErrorKind::kInvalidArgument, "--shard auto: ", count_text, " must be between 1 and 1000000");
  if (index0 < 0 || index0 >= count)
    fail(ErrorKind::kInvalidArgument, "--shard auto: ", index_text, " is not in 0..", count - 1, " (",
         count_text, ")");
  return {static_cast<int>(index0 + 1), static_cast<int>(count)};
}

}  // namespace

Shard parse_shard(const std::string& text) {
  Shard s;
  size_t slash = text.find('/');
  try {
    if (slash == std::string::npos) throw std::invalid_argument("no slash");
    size_t used_k = 0, used_n = 0;
    s.k = std::stoi(text.substr(0, slash), &used_k);
    s.n = std::stoi(text.substr(slash + 1), &used_n);
    if (used_k != slash || used_n != text.size() - slash - 1) throw std::invalid_argument("junk");
  } catch (const std::exception&) {
    fail(ErrorKind::kInvalidArgument, "--shard ", text, ": expected K/N (e.g. 1/4) or auto");
  }
  if (s.n < 1 || s.k < 1 || s.k > s.n)
    fail(ErrorKind::kInvalidArgument, "--shard ", text, ": need 1 <= K <= N");
  return s;
}

Shard shard_from_environment(const EnvLookup& getenv) {
  const std::optional<long long> k8s_index = number(getenv, "JOB_COMPLETION_INDEX");
  const std::optional<long long> k8s_count = number(getenv, "JOB_COMPLETIONS");
  const std::optional<long long> slurm_id = number(getenv, "SLURM_ARRAY_TASK_ID");
  const std::optional<long long> slurm_count = number(getenv, "SLURM_ARRAY_TASK_COUNT");
  const bool k8s = k8s_index || k8s_count;
  const bool slurm = slurm_id || slurm_count;
  if (k8s && slurm)
    fail(ErrorKind::kInvalidArgument, "--shard auto: both a Kubernetes (JOB_COMPLETION_*) and a "
         "Slurm (SLURM_ARRAY_TASK_*) index are set; give --shard K/N");
  if (k8s) {
    if (!k8s_index)
      fail(ErrorKind::kInvalidArgument, "--shard auto: JOB_COMPLETIONS is set but JOB_COMPLETION_INDEX "
           "is not (is this an Indexed Job, completionMode: Indexed?)");
    if (!k8s_count)
      fail(ErrorKind::kInvalidArgument, "--shard auto: JOB_COMPLETION_INDEX is set but JOB_COMPLETIONS "
           "is not; set it in the pod's env to the Job's .spec.completions");
    return checked(*k8s_index, *k8s_count, cat("JOB_COMPLETION_INDEX=", *k8s_index),
                   cat("JOB_COMPLETIONS=", *k8s_count));
  }
  if (slurm) {
    if (!slurm_id || !slurm_count)
      fail(ErrorKind::kInvalidArgument, "--shard auto: ",
           slurm_id ? "SLURM_ARRAY_TASK_COUNT" : "SLURM_ARRAY_TASK_ID", " is not set (",
           slurm_id ? "SLURM_ARRAY_TASK_ID" : "SLURM_ARRAY_TASK_COUNT", " is); run it as a job array (sbatch --array)");
    const long long min = number(getenv, "SLURM_ARRAY_TASK_MIN").value_or(0);
    const long long step = number(getenv, "SLURM_ARRAY_TASK_STEP").value_or(1);
    if (step < 1) fail(ErrorKind::kInvalidArgument, "--shard auto: SLURM_ARRAY_TASK_STEP=", step, " must be >= 1");
    const long long offset = *slurm_id - min;
    if (offset % step != 0)
      fail(ErrorKind::kInvalidArgument, "--shard auto: SLURM_ARRAY_TASK_ID=", *slurm_id,
           " is not SLURM_ARRAY_TASK_MIN=", min, " plus a multiple of SLURM_ARRAY_TASK_STEP=", step,
           " (an array with gaps, e.g. --array=1,4,9?); give --shard K/N");
    return checked(offset / step, *slurm_count,
                   cat("SLURM_ARRAY_TASK_ID=", *slurm_id, " (task ", offset / step, " from MIN=", min,
                       ", STEP=", step, ")"),
                   cat("SLURM_ARRAY_TASK_COUNT=", *slurm_count));
  }
  fail(ErrorKind::kInvalidArgument, "--shard auto: no array index in the environment. ", kHowTo);
}

Shard resolve_shard(const std::string& text) {
  if (text == "auto") return shard_from_environment([](const char* name) { return std::getenv(name); });
  return parse_shard(text);
}

}  // namespace kantu::eval
