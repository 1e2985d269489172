// The engine loop's continuous batching, with a scripted engine that logs every
// prefill and every batched decode step: admissions interleave with decode steps,
// one step_batch call advances all decoding sequences, cancellation drops a
// sequence from the next batch, admission is FIFO within `parallel`.
#include "server/scheduler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

#include "core/timer.h"

namespace kantu::server {
namespace {

using namespace std::chrono_literals;

class ScriptedEngine;

// Emits "<name><i> " for i = 1..tokens; the first step is its prefill.
class ScriptedSequence : public Sequence {
 public:
  ScriptedSequence(ScriptedEngine& engine, std::string name, int tokens)
      : engine_(engine), name_(std::move(name)), tokens_(tokens) {}

  std::string step() override;
  std::string advance() {
    ++emitted_;
    stats_.completion_tokens = emitted_;
    if (emitted_ == tokens_) stats_.finish_reason = "length";
    return name_ + std::to_string(emitted_) + " ";
  }
  bool started() const override { return emitted_ > 0; }
  bool finished() const override { return emitted_ >= tokens_; }
  const SequenceStats& stats() const override { return stats_; }
  const std::string& name() const { return name_; }

 private:
  ScriptedEngine& engine_;
  std::string name_;
  int tokens_;
  int emitted_ = 0;
  SequenceStats stats_;
};

class ScriptedEngine : public Engine {
 public:
  std::string model_id() const override { return "scripted"; }
  int64_t context_length() const override { return 1000; }
  std::unique_ptr<Sequence> prepare(const ChatRequest&) override {
    fail(ErrorKind::kUnsupported, "the scripted engine makes sequences with make()");
  }
  std::unique_ptr<Sequence> make(const std::string& name, int tokens) {
    return std::make_unique<ScriptedSequence>(*this, name, tokens);
  }

  std::vector<StepResult> step_batch(std::span<Sequence* const> seqs) override {
    std::string line = "batch";
    for (Sequence* s : seqs) line += " " + static_cast<ScriptedSequence*>(s)->name();
    record(line);
    if (on_batch) on_batch(batches_++);
    std::vector<StepResult> results;
    for (Sequence* s : seqs) results.push_back({static_cast<ScriptedSequence*>(s)->advance(), {}});
    return results;
  }

  // Called by a sequence's first step: logs it and, for the sequence named
  // `hold_prefill_of`, waits until release() (so a test can queue more work first).
  void prefill(const std::string& name) {
    record("prefill " + name);
    if (name == hold_prefill_of) gate_.get_future().wait();
  }
  void release() { gate_.set_value(); }

  void record(const std::string& line) {
    std::lock_guard lock(mutex_);
    log_.push_back(line);
  }
  std::vector<std::string> log() const {
    std::lock_guard lock(mutex_);
    return log_;
  }
  bool logged(const std::string& line) const {
    auto l = log();
    return std::find(l.begin(), l.end(), line) != l.end();
  }

  std::string hold_prefill_of;
  std::function<void(int batch_index)> on_batch;  // runs on the engine thread

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> log_;
  std::promise<void> gate_;
  int batches_ = 0;
};

std::string ScriptedSequence::step() {
  if (emitted_ == 0) engine_.prefill(name_);
  return advance();
}

// Collects a job's whole text; returns the error if it failed.
std::optional<Error> collect(Job& job, std::string& text) {
  Timer t;
  for (;;) {
    Job::Update u = job.wait(100ms);
    text += u.text;
    if (u.done) return u.error;
    if (t.ms() > 10000) return Error(ErrorKind::kInternal, "timed out");
  }
}

void wait_for(const ScriptedEngine& engine, const std::string& line) {
  Timer t;
  while (!engine.logged(line) && t.ms() < 5000) std::this_thread::sleep_for(1ms);
  ASSERT_TRUE(engine.logged(line)) << line;
}

TEST(Scheduler, OneBatchedStepAdvancesEveryDecodingSequence) {
  Metrics metrics;
  ScriptedEngine engine;
  engine.hold_prefill_of = "A";
  Scheduler scheduler({4, 16}, metrics);
  std::vector<std::shared_ptr<Job>> jobs;
  jobs.push_back(scheduler.submit(engine, engine.make("A", 5)));
  wait_for(engine, "prefill A");
  for (const char* name : {"B", "C", "D"}) jobs.push_back(scheduler.submit(engine, engine.make(name, 5)));
  engine.release();
  std::vector<std::string> texts(4);
  for (size_t i = 0; i < jobs.size(); ++i) EXPECT_FALSE(collect(*jobs[i], texts[i]));
  EXPECT_EQ(texts[0], "A1 A2 A3 A4 A5 ");
  EXPECT_EQ(texts[3], "D1 D2 D3 D4 D5 ");
  // One prefill per iteration, each followed by one batched step of everything that
  // was already decoding; then the batch shrinks as sequences finish.
  std::vector<std::string> expected = {
      "prefill A",
      "prefill B", "batch A",
      "prefill C", "batch A B",
      "prefill D", "batch A B C",
      "batch A B C D",
      "batch B C D",
      "batch C D",
      "batch D",
  };
  EXPECT_EQ(engine.log(), expected);
  std::string m = metrics.render();
  EXPECT_NE(m.find("kantu_decode_batches_total 7\n"), std::string::npos) << m;
  EXPECT_NE(m.find("kantu_decode_batch_sequences_total 16\n"), std::string::npos) << m;
}

TEST(Scheduler, CancelledSequenceLeavesTheNextBatch) {
  Metrics metrics;
  ScriptedEngine engine;
  engine.hold_prefill_of = "A";
  std::vector<std::shared_ptr<Job>> jobs;
  // The first batch holding all three cancels B (as if its client had gone).
  bool cancelled = false;
  engine.on_batch = [&](int) {
    auto l = engine.log();
    if (!cancelled && l.back() == "batch A B C") {
      jobs[1]->cancel();
      cancelled = true;
    }
  };
  Scheduler scheduler({3, 16}, metrics);
  jobs.push_back(scheduler.submit(engine, engine.make("A", 8)));
  wait_for(engine, "prefill A");
  jobs.push_back(scheduler.submit(engine, engine.make("B", 8)));
  jobs.push_back(scheduler.submit(engine, engine.make("C", 8)));
  engine.release();
  std::string a, b, c;
  EXPECT_FALSE(collect(*jobs[0], a));
  auto err = collect(*jobs[1], b);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->kind(), ErrorKind::kCancelled);
  EXPECT_FALSE(collect(*jobs[2], c));
  EXPECT_EQ(a, "A1 A2 A3 A4 A5 A6 A7 A8 ");
  EXPECT_EQ(c, "C1 C2 C3 C4 C5 C6 C7 C8 ");
  std::vector<std::string> log = engine.log();
  auto first_full = std::find(log.begin(), log.end(), "batch A B C");
  ASSERT_NE(first_full, log.end());
  EXPECT_EQ(*(first_full + 1), "batch A C") << "B should be gone from the very next step";
  for (auto it = first_full + 1; it != log.end(); ++it) EXPECT_EQ(it->find('B'), std::string::npos) << *it;
  EXPECT_NE(metrics.render().find("kantu_cancelled_sequences_total 1\n"), std::string::npos);
}

TEST(Scheduler, AdmissionIsFifoAndInterleavedWithDecodeSteps) {
  Metrics metrics;
  ScriptedEngine engine;
  engine.hold_prefill_of = "A";
  Scheduler scheduler({2, 16}, metrics);
  std::vector<std::shared_ptr<Job>> jobs;
  jobs.push_back(scheduler.submit(engine, engine.make("A", 3)));
  wait_for(engine, "prefill A");
  jobs.push_back(scheduler.submit(engine, engine.make("B", 6)));
  jobs.push_back(scheduler.submit(engine, engine.make("C", 4)));
  jobs.push_back(scheduler.submit(engine, engine.make("D", 4)));
  EXPECT_EQ(scheduler.waiting(), 3);
  engine.release();
  for (auto& job : jobs) {
    std::string text;
    EXPECT_FALSE(collect(*job, text));
  }
  std::vector<std::string> log = engine.log();
  std::vector<std::string> prefills;
  for (const std::string& line : log) {
    if (line.starts_with("prefill")) prefills.push_back(line);
  }
  EXPECT_EQ(prefills, (std::vector<std::string>{"prefill A", "prefill B", "prefill C", "prefill D"}));
  // With at most 2 active, C starts only after A's last token.
  auto pos = [&](const std::string& line) { return std::find(log.begin(), log.end(), line) - log.begin(); };
  EXPECT_GT(pos("prefill C"), pos("batch A B"));
  auto first_c = std::find_if(log.begin(), log.end(),
                              [](const std::string& line) { return line.find('C') != std::string::npos; });
  EXPECT_EQ(*first_c, "prefill C");
  // A running stream waits for at most one other prefill between two of its tokens.
  for (const std::string name : {"A", "B", "C", "D"}) {
    auto mentions = [&](const std::string& line) {
      return line == "prefill " + name || (line.starts_with("batch") && line.find(name) != std::string::npos);
    };
    auto first = std::find_if(log.begin(), log.end(), mentions);
    auto last = std::find_if(log.rbegin(), log.rend(), mentions).base();
    int others = 0;
    for (auto it = first; it != last; ++it) {
      if (mentions(*it)) {
        others = 0;
      } else if (it->starts_with("prefill") && ++others > 1) {
        ADD_FAILURE() << name << " waited for two prefills in a row";
      }
    }
  }
}

}  // namespace
}  // namespace kantu::server
