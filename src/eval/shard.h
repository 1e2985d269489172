// Which part of an evaluation this process runs: `--shard K/N`, or `--shard auto` from
// the environment an orchestrator gives each task of an array job:
//   Kubernetes Indexed Job: JOB_COMPLETION_INDEX (0-based, set by Kubernetes) and
//     JOB_COMPLETIONS (the Job's .spec.completions; Kubernetes does not export it, so
//     the pod spec sets it).
//   Slurm job array: SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT, with
//     SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_STEP (set by Slurm) mapping
//     --array=1-8 or --array=0-14:2 onto parts 1..N.
#pragma once

#include <functional>
#include <string>

namespace kantu::eval {

struct Shard {
  int k = 1;  // 1-based part
  int n = 1;  // number of parts
};

// "K/N" with 1 <= K <= N; throws kInvalidArgument otherwise.
Shard parse_shard(const std::string& text);

// Looks an environment variable up; nullptr when unset.
using EnvLookup = std::function<const char*(const char* name)>;

// The shard an orchestrator assigned (see above). No index in the environment, half a
// pair, both orchestrators at once, a value that is not a whole number, or an index
// outside the array are kInvalidArgument errors naming the variables.
Shard shard_from_environment(const EnvLookup& getenv);

// parse_shard, or shard_from_environment(::getenv) for "auto".
Shard resolve_shard(const std::string& text);

}  // namespace kantu::eval
