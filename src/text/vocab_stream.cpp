#include "text/vocab_stream.h"

#include "core/error.h"

namespace kantu::text {

Json VocabMergesStream::parse(const std::string& text, const std::string& path) {
  std::vector<std::string> keys;  // keys[d] = last key seen at depth d + 1
  std::string pending_key;
  const auto at = [&](const std::vector<std::string>& where, int depth) {
    if (static_cast<int>(where.size()) != depth) return false;
    for (size_t i = 0; i < where.size(); ++i) {
      if (i >= keys.size() || keys[i] != where[i]) return false;
    }
    return true;
  };
  const Json::parser_callback_t cb = [&](int depth, Json::parse_event_t event, Json& parsed) {
    switch (event) {
      case Json::parse_event_t::key:
        if (at(vocab_path, depth - 1)) {
          pending_key = parsed.get<std::string>();
          return false;  // not stored: the value event below records the pair
        }
        if (depth >= 1) {
          keys.resize(static_cast<size_t>(depth));
          keys[static_cast<size_t>(depth) - 1] = parsed.get<std::string>();
        }
        return true;
      case Json::parse_event_t::object_start:
        if (at(vocab_path, depth)) saw_vocab = true;
        return true;
      case Json::parse_event_t::array_start:
        if (collect_merges && at(merges_path, depth)) saw_merges = true;
        return true;
      case Json::parse_event_t::value:
        if (depth == static_cast<int>(vocab_path.size()) + 1 && at(vocab_path, depth - 1)) {
          vocab.emplace_back(std::move(pending_key), parsed);
          return false;
        }
        if (collect_merges && depth == static_cast<int>(merges_path.size()) + 1 &&
            at(merges_path, depth - 1)) {
          if (parsed.is_string()) {
            const std::string& m = parsed.get_ref<const std::string&>();
            const size_t space = m.find(' ');
            if (space == std::string::npos || m.find(' ', space + 1) != std::string::npos) {
              bad_merges.push_back(m);
            } else {
              merges.emplace_back(m.substr(0, space), m.substr(space + 1));
            }
          } else {
            bad_merges.push_back(parsed.dump());
          }
          return false;
        }
        return true;
      case Json::parse_event_t::array_end:  // a merge in the ["a", "b"] form
        if (collect_merges && depth == static_cast<int>(merges_path.size()) + 1 &&
            at(merges_path, depth - 1)) {
          if (parsed.size() == 2 && parsed[0].is_string() && parsed[1].is_string()) {
            merges.emplace_back(parsed[0].get<std::string>(), parsed[1].get<std::string>());
          } else {
            bad_merges.push_back(parsed.dump());
          }
          return false;
        }
        return true;
      default:
        return true;
    }
  };
  try {
    return Json::parse(text, cb);
  } catch (const Json::exception& e) {
    fail(ErrorKind::kCorrupt, path, ": invalid JSON: ", e.what());
  }
}

}  // namespace kantu::text
