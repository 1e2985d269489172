#include "server/responses.h"

#include <chrono>
#include <cstdio>
#include <random>

#include "core/json.h"
#include "runtime/generation_loop.h"

namespace kantu::server {

namespace {

Json usage_json(const SequenceStats& s) {
  return {{"prompt_tokens", s.prompt_tokens},
          {"completion_tokens", s.completion_tokens},
          {"total_tokens", s.prompt_tokens + s.completion_tokens},
          {"prompt_tokens_details", {{"cached_tokens", s.cached_tokens}}}};
}

double per_second(double count, double ms) { return ms > 0 ? count * 1000.0 / ms : 0.0; }

Json timings_json(const SequenceStats& s, double queue_ms) {
  // The first generated token comes out of the prefill step, so decode speed counts
  // the tokens after it.
  double decoded = s.completion_tokens > 1 ? s.completion_tokens - 1 : 0;
  return {{"queue_ms", queue_ms},
          {"image_ms", s.image_ms},
          {"image_tokens", s.image_tokens},
          {"cached", s.image_cached},
          {"cached_tokens", s.cached_tokens},
          {"prefill_ms", s.prefill_ms},
          {"prefill_tok_s", runtime::prefill_tokens_per_second(s.prompt_tokens, s.cached_tokens, s.prefill_ms)},
          {"decode_ms", s.decode_ms},
          {"decode_tok_s", per_second(decoded, s.decode_ms)}};
}

Json chunk_json(const CompletionId& id) {
  return {{"id", id.id},
          {"object", "chat.completion.chunk"},
          {"created", id.created},
          {"model", id.model}};
}

std::string event(const Json& j) {
  return "data: " + j.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n\n";
}

}  // namespace

int http_status(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidArgument:
    case ErrorKind::kNotFound:
    case ErrorKind::kCorrupt: return 400;
    case ErrorKind::kUnsupported: return 415;
    case ErrorKind::kTooLarge: return 413;
    case ErrorKind::kOverloaded: return 503;
    case ErrorKind::kCancelled: return 499;
    case ErrorKind::kInternal: return 500;
  }
  return 500;
}

std::string error_body(int status, const std::string& message) {
  const char* type = status >= 500 ? "server_error" : "invalid_request_error";
  const char* code = "internal_error";
  switch (status) {
    case 400: code = "invalid_request"; break;
    case 404: code = "not_found"; break;
    case 405: code = "method_not_allowed"; break;
    case 413: code = "request_too_large"; break;
    case 415: code = "unsupported_media_type"; break;
    case 499: code = "cancelled"; break;
    case 503: code = "overloaded"; break;
    default: break;
  }
  Json j = {{"error", {{"message", message}, {"type", type}, {"code", code}}}};
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

CompletionId CompletionId::make(const std::string& model) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char hex[32];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(rng()));
  CompletionId id;
  id.id = std::string("chatcmpl-") + hex;
  id.created = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  id.model = model;
  return id;
}

std::string completion_body(const CompletionId& id, const std::string& text,
                            const SequenceStats& stats, double queue_ms) {
  Json j = {{"id", id.id},
            {"object", "chat.completion"},
            {"created", id.created},
            {"model", id.model},
            {"choices",
             Json::array({{{"index", 0},
                           {"message", {{"role", "assistant"}, {"content", text}}},
                           {"finish_reason", stats.finish_reason}}})},
            {"usage", usage_json(stats)},
            {"timings", timings_json(stats, queue_ms)}};
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string role_chunk_event(const CompletionId& id) {
  Json j = chunk_json(id);
  j["choices"] = Json::array(
      {{{"index", 0}, {"delta", {{"role", "assistant"}, {"content", ""}}}, {"finish_reason", nullptr}}});
  return event(j);
}

std::string content_chunk_event(const CompletionId& id, const std::string& text) {
  Json j = chunk_json(id);
  j["choices"] =
      Json::array({{{"index", 0}, {"delta", {{"content", text}}}, {"finish_reason", nullptr}}});
  return event(j);
}

std::string final_chunk_event(const CompletionId& id, const SequenceStats& stats,
                              double queue_ms) {
  Json j = chunk_json(id);
  j["choices"] = Json::array(
      {{{"index", 0}, {"delta", Json::object()}, {"finish_reason", stats.finish_reason}}});
  j["usage"] = usage_json(stats);
  j["timings"] = timings_json(stats, queue_ms);
  return event(j);
}

std::string usage_chunk_event(const CompletionId& id, const SequenceStats& stats) {
  Json j = chunk_json(id);
  j["choices"] = Json::array();
  j["usage"] = usage_json(stats);
  return event(j);
}

std::string error_event(int status, const std::string& message) {
  return "data: " + error_body(status, message) + "\n\n";
}

}  // namespace kantu::server
