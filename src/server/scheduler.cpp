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

std::shared_ptr<Job> Scheduler::submit(std::unique_ptr<Sequence> sequence) {
  auto job = std::make_shared<Job>();
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
      work_.wait(lock, [&] {
        return !active_.empty() || !queue_.empty() || stopping_;
      });
      if (stopping_ && queue_.empty() && active_.empty()) break;
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

    // One token for each active sequence, in admission order.
    for (auto& job : active_) {
      if (job->cancelled()) {
        finish(*job, Error(ErrorKind::kCancelled, "the client disconnected"));
        continue;
      }
      try {
        std::string text = job->sequence_->step();
        if (!text.empty()) {
          {
            std::lock_guard lock(job->mutex_);
            job->pending_ += text;
          }
          job->changed_.notify_all();
        }
        if (job->sequence_->finished()) finish(*job, std::nullopt);
      } catch (const Error& e) {
        finish(*job, e);
      } catch (const std::exception& e) {
        finish(*job, Error(ErrorKind::kInternal, e.what()));
      }
    }
    {
      std::lock_guard lock(mutex_);
      std::erase_if(active_, [](const std::shared_ptr<Job>& j) { return j->sequence_ == nullptr; });
      n_active_ = static_cast<int64_t>(active_.size());
    }
    publish_depth();
  }
  publish_depth();
}

}  // namespace kantu::server
