#include "server/scheduler.h"

#include <algorithm>
#include <exception>

namespace kantu::server {

Job::Update Job::wait(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout, [&] { return done_ || !pending_.empty(); });
  Update u;
  u.text.swap(pending_);
  u.done = done_;
  if (done_) u.error = error_;
  return u;
}

void Job::cancel() {
  std::lock_guard lock(mutex_);
  cancelled_ = true;
}

bool Job::cancelled() const {
  std::lock_guard lock(mutex_);
  return cancelled_;
}

SequenceStats Job::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

bool Job::generating() const {
  std::lock_guard lock(mutex_);
  return generating_ || done_;
}

double Job::queue_ms() const {
  std::lock_guard lock(mutex_);
  return queue_ms_;
}

Scheduler::Scheduler(Options options, Metrics& metrics) : options_(options), metrics_(metrics) {
  options_.parallel = std::max(1, options_.parallel);
  options_.max_queue = std::max(0, options_.max_queue);
  thread_ = std::thread([this] { loop(); });
}

Scheduler::~Scheduler() { shutdown(); }

std::shared_ptr<Job> Scheduler::submit(Engine& engine, std::unique_ptr<Sequence> sequence) {
  KANTU_CHECK(sequence, "submit: no sequence");
  auto job = std::make_shared<Job>();
  job->engine_ = &engine;
  job->sequence_ = std::move(sequence);
  {
    std::lock_guard lock(mutex_);
    if (stopping_) fail(ErrorKind::kOverloaded, "the server is shutting down");
    // A free engine slot takes the job at once; otherwise it waits in the queue.
    int64_t free_slots = options_.parallel - n_active_;
    if (static_cast<int64_t>(queue_.size()) >= options_.max_queue + std::max<int64_t>(0, free_slots)) {
      fail(ErrorKind::kOverloaded, "the server is busy (", n_active_, " generating, ",
           queue_.size(), " waiting); retry later");
    }
    queue_.push_back(job);
  }
  work_.notify_one();
  publish_depth();
  return job;
}

void Scheduler::shutdown() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_.notify_one();
  if (thread_.joinable()) thread_.join();
}

int64_t Scheduler::waiting() const {
  std::lock_guard lock(mutex_);
  return static_cast<int64_t>(queue_.size());
}

int64_t Scheduler::active() const {
  std::lock_guard lock(mutex_);
  return n_active_;
}

void Scheduler::publish_depth() { metrics_.set_queue_depth(waiting(), active()); }

void Scheduler::finish(Job& job, std::optional<Error> error) {
  SequenceStats stats;
  if (job.sequence_) stats = job.sequence_->stats();
  job.sequence_.reset();  // frees the KV cache now, not when the HTTP thread lets go
  double total_s = job.since_submit_.ms() / 1000;
  if (!error) {
    metrics_.add_tokens(stats.prompt_tokens, stats.completion_tokens);
    metrics_.observe(Stage::kImageEncode, stats.image_ms / 1000);
    metrics_.observe(Stage::kPrefill, stats.prefill_ms / 1000);
    metrics_.observe(Stage::kDecode, stats.decode_ms / 1000);
    metrics_.observe(Stage::kTotal, total_s);
    if (stats.image_tokens > 0) metrics_.count_image_cache(stats.image_cached);
  }
  {
    std::lock_guard lock(job.mutex_);
    job.stats_ = stats;
    job.error_ = std::move(error);
    job.done_ = true;
  }
  job.changed_.notify_all();
}

void Scheduler::loop() {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      work_.wait(lock, [&] { return !active_.empty() || !queue_.empty() || stopping_; });
      if (stopping_ && queue_.empty() && active_.empty()) break;
    }
    admit();
    drop_cancelled();
    // At most one piece of one prefill per iteration, oldest admission first (see
    // scheduler.h).
    Job* prefilled = nullptr;
    for (auto& job : active_) {
      if (job->sequence_ && !job->sequence_->started()) {
        prefill(*job);
        prefilled = job.get();
        break;
      }
    }
    decode_step(prefilled);
    {
      std::lock_guard lock(mutex_);
      std::erase_if(active_, [](const std::shared_ptr<Job>& j) { return j->sequence_ == nullptr; });
      n_active_ = static_cast<int64_t>(active_.size());
    }
    publish_depth();
  }
  publish_depth();
}

void Scheduler::admit() {
  {
    std::lock_guard lock(mutex_);
    while (!queue_.empty() && static_cast<int>(active_.size()) < options_.parallel) {
      std::shared_ptr<Job> job = std::move(queue_.front());
      queue_.pop_front();
      double waited = job->since_submit_.ms();
      {
        std::lock_guard job_lock(job->mutex_);
        job->queue_ms_ = waited;
      }
      metrics_.observe(Stage::kQueue, waited / 1000);
      active_.push_back(std::move(job));
    }
    n_active_ = static_cast<int64_t>(active_.size());
  }
  publish_depth();
}

void Scheduler::drop_cancelled() {
  for (auto& job : active_) {
    if (job->sequence_ && job->cancelled()) {
      metrics_.count_cancelled();
      finish(*job, Error(ErrorKind::kCancelled, "the client disconnected"));
    }
  }
}

void Scheduler::prefill(Job& job) {
  try {
    // One piece of the prefill (chunked prefill: the engine decides how much); the piece
    // that ends it also gives the first token.
    std::string text = job.sequence_->step();
    if (!job.sequence_->started()) return;
    {
      std::lock_guard lock(job.mutex_);
      job.generating_ = true;
    }
    deliver(job, text);
  } catch (const Error& e) {
    finish(job, e);
  } catch (const std::exception& e) {
    finish(job, Error(ErrorKind::kInternal, e.what()));
  }
}

void Scheduler::decode_step(Job* skip) {
  // Every decoding sequence but the one that just got its first token; grouped by
  // engine (in practice the server has one).
  std::vector<Job*> pending;
  for (auto& job : active_) {
    if (job.get() != skip && job->sequence_ && job->sequence_->started()) pending.push_back(job.get());
  }
  while (!pending.empty()) {
    Engine* engine = pending.front()->engine_;
    std::vector<Job*> batch;
    std::vector<Sequence*> seqs;
    std::erase_if(pending, [&](Job* j) {
      if (j->engine_ != engine) return false;
      batch.push_back(j);
      seqs.push_back(j->sequence_.get());
      return true;
    });
    metrics_.count_decode_batch(static_cast<int64_t>(batch.size()));
    std::vector<StepResult> results;
    std::optional<Error> failed;
    try {
      results = engine->step_batch(seqs);
      KANTU_CHECK(results.size() == batch.size(), "step_batch returned ", results.size(),
                  " results for ", batch.size(), " sequences");
    } catch (const Error& e) {
      failed = e;
    } catch (const std::exception& e) {
      failed = Error(ErrorKind::kInternal, e.what());
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      if (failed) {
        finish(*batch[i], failed);
      } else if (results[i].error) {
        finish(*batch[i], std::move(results[i].error));
      } else {
        deliver(*batch[i], results[i].text);
      }
    }
  }
}

void Scheduler::deliver(Job& job, const std::string& text) {
  if (!text.empty()) {
    {
      std::lock_guard lock(job.mutex_);
      job.pending_ += text;
    }
    job.changed_.notify_all();
  }
  if (job.sequence_->finished()) finish(job, std::nullopt);
}

}  // namespace kantu::server
