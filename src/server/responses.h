// The JSON bodies the API sends: OpenAI chat completions, streaming chunks, errors
// (OpenAI's {"error": {message, type, code}} shape) and the HTTP status per ErrorKind.
#pragma once

#include <cstdint>
#include <string>

#include "core/error.h"
#include "server/engine.h"

namespace kantu::server {

int http_status(ErrorKind kind);
// {"error":{"message":...,"type":...,"code":...}}
std::string error_body(int status, const std::string& message);

// Identity of one completion, shared by all its chunks.
struct CompletionId {
  std::string id;  // "chatcmpl-<random hex>"
  int64_t created = 0;  // unix seconds
  std::string model;
  static CompletionId make(const std::string& model);
};

// {"id","object":"chat.completion",...,"choices":[...],"usage":{...},"timings":{...}}
std::string completion_body(const CompletionId& id, const std::string& text,
                            const SequenceStats& stats, double queue_ms);
// "data: {chat.completion.chunk}\n\n" events. `role_chunk` opens the stream.
std::string role_chunk_event(const CompletionId& id);
std::string content_chunk_event(const CompletionId& id, const std::string& text);
// The closing chunk: empty delta, finish_reason, usage and timings.
std::string final_chunk_event(const CompletionId& id, const SequenceStats& stats, double queue_ms);
// OpenAI's stream_options.include_usage chunk: "choices": [] and usage.
std::string usage_chunk_event(const CompletionId& id, const SequenceStats& stats);
std::string error_event(int status, const std::string& message);
inline constexpr const char* kDoneEvent = "data: [DONE]\n\n";

}  // namespace kantu::server
