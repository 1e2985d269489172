// `kantu eval compare`: the seed's model comparison in one command. Every model captions
// the same images with the same prompt, one after another, each in its own
// `kantu eval run` process (so its peak memory is its own, and a crash or an out-of-memory
// kill of one model does not take the others down); OpenAI-compatible endpoints go through
// the same runner. Each run lives in OUT/runs/<name> and resumes when the command is run
// again. At the end the report (report.h: table, charts, gallery) is written to OUT.
#pragma once

#include <string>
#include <vector>

namespace kantu::eval {

struct CompareModel {
  std::string name;      // report name and run directory (unique, file-name safe)
  std::string model;     // local: folder or GGUF file; endpoint: the model name sent
  std::string mmproj;    // local GGUF: its vision projector, or ""
  std::string endpoint;  // endpoint URL(s), comma-separated; "" for a local model
};

// The models of the command line: --model PATH[,MMPROJ.gguf] (a folder, or a GGUF model
// file and its mmproj) and --endpoint NAME=URL[,URL...]. Names come from the folder or
// file name (endpoints: NAME), made unique with -2, -3, ... Malformed entries are
// Error(kInvalidArgument) naming them.
std::vector<CompareModel> compare_models(const std::vector<std::string>& models,
                                         const std::vector<std::string>& endpoints);

struct CompareOptions {
  std::vector<CompareModel> models;
  std::string annotations, images_dir, out_dir;
  int limit = 0;
  std::string prompt = "Describe this image in one short sentence.";
  int max_tokens = 64;
  int threads = 0;                      // local runs' compute threads (0 = all)
  std::vector<std::string> local_args;  // passed to every local run (--weights q8 ...)
  double timeout_s = 300;               // endpoint requests
  std::string kantu;                    // the executable the runs go through
};

// The `kantu eval run` command line of one model.
std::vector<std::string> eval_run_argv(const CompareModel& model, const CompareOptions& options);

struct CompareOutcome {
  std::string name, run_dir;
  int exit_code = -1;
  double process_peak_rss_mb = -1;  // of this invocation's child (wait4)
  bool finished = false;            // the run has its metrics.json
};

// Runs every model in turn, then writes report.md/.json/.html and compare.json to out_dir
// for the finished runs. A run that fails is reported in its outcome; the others go on.
std::vector<CompareOutcome> run_compare(const CompareOptions& options);

}  // namespace kantu::eval
