// --shard K/N and --shard auto from the environment of Kubernetes Indexed Jobs and
// Slurm job arrays, including every way that environment can be wrong.
#include <gtest/gtest.h>

#include <map>

#include "core/error.h"
#include "eval/shard.h"

namespace kantu::eval {
namespace {

Shard shard_in(const std::map<std::string, std::string>& env) {
  return shard_from_environment([&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

std::string shard_error(const std::map<std::string, std::string>& env) {
  try {
    Shard s = shard_in(env);
    return "no error: " + std::to_string(s.k) + "/" + std::to_string(s.n);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
    return e.what();
  }
}

TEST(Shard, ParsesKOverN) {
  Shard s = parse_shard("2/5");
  EXPECT_EQ(s.k, 2);
  EXPECT_EQ(s.n, 5);
  for (const char* bad : {"0/3", "4/3", "1/0", "1", "a/b", "1/2x", "", "/", "auto2"})
    EXPECT_THROW(parse_shard(bad), Error) << bad;
}

TEST(Shard, KubernetesIndexedJob) {
  Shard s = shard_in({{"JOB_COMPLETION_INDEX", "0"}, {"JOB_COMPLETIONS", "4"}});
  EXPECT_EQ(s.k, 1);
  EXPECT_EQ(s.n, 4);
  s = shard_in({{"JOB_COMPLETION_INDEX", "3"}, {"JOB_COMPLETIONS", "4"}});
  EXPECT_EQ(s.k, 4);
  EXPECT_NE(shard_error({{"JOB_COMPLETION_INDEX", "4"}, {"JOB_COMPLETIONS", "4"}}).find("not in 0..3"),
            std::string::npos);
  EXPECT_NE(shard_error({{"JOB_COMPLETION_INDEX", "1"}}).find("JOB_COMPLETIONS is not"), std::string::npos);
  EXPECT_NE(shard_error({{"JOB_COMPLETIONS", "2"}}).find("JOB_COMPLETION_INDEX is not"), std::string::npos);
  EXPECT_NE(shard_error({{"JOB_COMPLETION_INDEX", "one"}, {"JOB_COMPLETIONS", "2"}}).find("'one' is not a whole number"),
            std::string::npos);
  EXPECT_NE(shard_error({{"JOB_COMPLETION_INDEX", "-1"}, {"JOB_COMPLETIONS", "2"}}).find("not in 0..1"),
            std::string::npos);
  EXPECT_NE(shard_error({{"JOB_COMPLETION_INDEX", "0"}, {"JOB_COMPLETIONS", "0"}}).find("between 1 and"),
            std::string::npos);
}

TEST(Shard, SlurmJobArray) {
  // sbatch --array=0-3
  Shard s = shard_in({{"SLURM_ARRAY_TASK_ID", "2"}, {"SLURM_ARRAY_TASK_COUNT", "4"},
                      {"SLURM_ARRAY_TASK_MIN", "0"}, {"SLURM_ARRAY_TASK_MAX", "3"}});
  EXPECT_EQ(s.k, 3);
  EXPECT_EQ(s.n, 4);
  // sbatch --array=1-8: task 1 is part 1.
  s = shard_in({{"SLURM_ARRAY_TASK_ID", "1"}, {"SLURM_ARRAY_TASK_COUNT", "8"}, {"SLURM_ARRAY_TASK_MIN", "1"}});
  EXPECT_EQ(s.k, 1);
  EXPECT_EQ(s.n, 8);
  // sbatch --array=10-16:2 (10, 12, 14, 16)
  s = shard_in({{"SLURM_ARRAY_TASK_ID", "14"}, {"SLURM_ARRAY_TASK_COUNT", "4"},
                {"SLURM_ARRAY_TASK_MIN", "10"}, {"SLURM_ARRAY_TASK_STEP", "2"}});
  EXPECT_EQ(s.k, 3);
  EXPECT_NE(shard_error({{"SLURM_ARRAY_TASK_ID", "13"}, {"SLURM_ARRAY_TASK_COUNT", "4"},
                         {"SLURM_ARRAY_TASK_MIN", "10"}, {"SLURM_ARRAY_TASK_STEP", "2"}})
                .find("with gaps"),
            std::string::npos);
  // --array=1,4,9: MIN 1, no step: 9 is task 8 of 3.
  EXPECT_NE(shard_error({{"SLURM_ARRAY_TASK_ID", "9"}, {"SLURM_ARRAY_TASK_COUNT", "3"}, {"SLURM_ARRAY_TASK_MIN", "1"}})
                .find("not in 0..2"),
            std::string::npos);
  EXPECT_NE(shard_error({{"SLURM_ARRAY_TASK_ID", "1"}}).find("SLURM_ARRAY_TASK_COUNT is not set"),
            std::string::npos);
  EXPECT_NE(shard_error({{"SLURM_ARRAY_TASK_ID", "1 "}, {"SLURM_ARRAY_TASK_COUNT", "2"}}).find("not a whole number"),
            std::string::npos);
}

TEST(Shard, NoneOrBothOrchestratorsIsAnError) {
  EXPECT_NE(shard_error({}).find("no array index in the environment"), std::string::npos);
  EXPECT_NE(shard_error({{"JOB_COMPLETION_INDEX", "0"}, {"JOB_COMPLETIONS", "2"},
                         {"SLURM_ARRAY_TASK_ID", "0"}, {"SLURM_ARRAY_TASK_COUNT", "2"}})
                .find("both"),
            std::string::npos);
}

}  // namespace
}  // namespace kantu::eval
