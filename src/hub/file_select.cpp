#include "hub/file_select.h"

#include <fnmatch.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "core/error.h"
#include "core/json.h"

namespace kantu::hub {

namespace {

const std::set<std::string>& needed_files() {
  static const std::set<std::string> names = {
      "config.json",          "generation_config.json",  "preprocessor_config.json",
      "processor_config.json", "video_preprocessor_config.json", "tokenizer.json",
      "tokenizer_config.json", "tokenizer.model",        "vocab.json",
      "merges.txt",           "special_tokens_map.json", "added_tokens.json",
      "chat_template.json",   "chat_template.jinja"};
  return names;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string base_name(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::vector<std::string> dir_parts(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t slash; (slash = path.find('/', start)) != std::string::npos; start = slash + 1)
    parts.push_back(path.substr(start, slash - start));
  return parts;  // the folders only; the file name is left out
}

// A GGUF file name split as llama.cpp reads it: NAME[-TAG][-00001-of-00003].gguf.
struct GgufName {
  std::string prefix;  // without the split suffix and ".gguf"
  std::string tag;     // upper-case, or ""
  int index = 1, count = 1;
};

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

GgufName parse_gguf_name(const std::string& path) {
  GgufName n;
  if (!ends_with(path, ".gguf")) return n;
  n.prefix = path.substr(0, path.size() - 5);
  // "-00001-of-00003": 5 digits, "-of-", 5 digits.
  if (n.prefix.size() > 15) {
    const std::string tail = n.prefix.substr(n.prefix.size() - 15);
    if (tail[0] == '-' && tail.compare(6, 4, "-of-") == 0 && all_digits(tail.substr(1, 5)) &&
        all_digits(tail.substr(10, 5))) {
      n.index = std::stoi(tail.substr(1, 5));
      n.count = std::stoi(tail.substr(10, 5));
      n.prefix.resize(n.prefix.size() - 15);
    }
  }
  // The tag: the last run of [A-Za-z0-9_] after a '-' or '.'.
  size_t i = n.prefix.size();
  while (i > 0 && (std::isalnum(static_cast<unsigned char>(n.prefix[i - 1])) || n.prefix[i - 1] == '_')) --i;
  if (i > 0 && i < n.prefix.size() && (n.prefix[i - 1] == '-' || n.prefix[i - 1] == '.'))
    n.tag = upper(n.prefix.substr(i));
  return n;
}

// Q4_K_M -> 4, F16 -> 16, BF16 -> 16; 0 without digits.
int quant_bits(const std::string& tag) {
  const size_t pos = tag.find_first_of("0123456789");
  if (pos == std::string::npos) return 0;
  size_t end = pos;
  while (end < tag.size() && std::isdigit(static_cast<unsigned char>(tag[end])) && end - pos < 6) ++end;
  return std::stoi(tag.substr(pos, end - pos));
}

bool is_model_gguf(const std::string& path) {
  if (!ends_with(path, ".gguf")) return false;
  const std::string name = base_name(path);
  for (const char* side : {"mmproj", "imatrix", "mtp-", "eagle3-", "dflash-", "dspark-"})
    if (name.find(side) != std::string::npos) return false;
  return true;
}

// The tag followed by '.' or '-', case-insensitively, anywhere in the path.
bool carries_tag(const std::string& path, const std::string& tag) {
  const std::string p = upper(path), t = upper(tag);
  for (size_t at = p.find(t); at != std::string::npos; at = p.find(t, at + 1)) {
    const size_t after = at + t.size();
    if (after < p.size() && (p[after] == '.' || p[after] == '-')) return true;
  }
  return false;
}

std::string find_model_gguf(const std::vector<std::string>& files, const std::string& tag) {
  const std::vector<std::string> tags = tag.empty() ? std::vector<std::string>{"Q4_K_M", "Q8_0"}
                                                    : std::vector<std::string>{tag};
  const auto first_part = [](const std::string& f) {
    const GgufName n = parse_gguf_name(f);
    return n.count <= 1 || n.index == 1;
  };
  for (const std::string& t : tags)
    for (const std::string& f : files)
      if (is_model_gguf(f) && carries_tag(f, t) && first_part(f)) return f;
  if (tag.empty())
    for (const std::string& f : files)
      if (is_model_gguf(f) && first_part(f)) return f;
  return {};
}

// The mmproj in the model's folder or one above it (deepest first), then the one whose
// quantization bits are closest to the model's.
std::string find_mmproj(const std::vector<std::string>& files, const std::string& model) {
  const std::vector<std::string> model_dirs = dir_parts(model);
  const int model_bits = quant_bits(parse_gguf_name(model).tag);
  std::string best;
  size_t best_depth = 0;
  int best_diff = 0;
  for (const std::string& f : files) {
    if (!ends_with(f, ".gguf") || f.find("mmproj") == std::string::npos) continue;
    const std::vector<std::string> dirs = dir_parts(f);
    if (dirs.size() > model_dirs.size() || !std::equal(dirs.begin(), dirs.end(), model_dirs.begin()))
      continue;
    const int diff = std::abs(quant_bits(parse_gguf_name(f).tag) - model_bits);
    if (best.empty() || dirs.size() > best_depth || (dirs.size() == best_depth && diff < best_diff)) {
      best = f;
      best_depth = dirs.size();
      best_diff = diff;
    }
  }
  return best;
}

std::string list_gguf_models(const std::vector<std::string>& files) {
  std::string out;
  for (const std::string& f : files)
    if (is_model_gguf(f)) {
      const GgufName n = parse_gguf_name(f);
      if (n.count > 1 && n.index != 1) continue;
      out += (out.empty() ? "" : ", ") + f;
    }
  return out.empty() ? "none" : out;
}

Selection select_gguf(const std::string& repo_id, const std::vector<std::string>& files,
                      const std::string& tag) {
  Selection s;
  s.gguf = true;
  s.model_file = find_model_gguf(files, tag);
  if (s.model_file.empty())
    fail(ErrorKind::kNotFound, repo_id, " has no GGUF model file for the tag ", tag,
         " (GGUF model files there: ", list_gguf_models(files), ")");
  const GgufName n = parse_gguf_name(s.model_file);
  if (n.count > 1)
    fail(ErrorKind::kUnsupported, repo_id, ": ", s.model_file, " is split into ", n.count,
         " files; kantu reads single-file GGUF models (choose another quantization)");
  s.files.push_back(s.model_file);
  s.mmproj_file = find_mmproj(files, s.model_file);
  if (!s.mmproj_file.empty()) s.files.push_back(s.mmproj_file);
  return s;
}

Selection select_folder(const std::string& repo_id, const std::vector<std::string>& files,
                        const IndexReader& read_index) {
  Selection s;
  const std::set<std::string> present(files.begin(), files.end());
  if (!present.count("config.json"))
    fail(ErrorKind::kUnsupported, repo_id, " has safetensors weights but no config.json");
  for (const std::string& f : files)
    if (needed_files().count(f)) s.files.push_back(f);
  const std::string index = "model.safetensors.index.json";
  if (present.count(index)) {
    s.files.push_back(index);
    for (const std::string& shard : read_index(index)) {
      if (!present.count(shard))
        fail(ErrorKind::kCorrupt, repo_id, ": ", index, " names the shard ", shard,
             ", which the repository does not have");
      s.files.push_back(shard);
    }
  } else if (present.count("model.safetensors")) {
    s.files.push_back("model.safetensors");
  } else {
    for (const std::string& f : files)
      if (f.find('/') == std::string::npos && ends_with(f, ".safetensors")) s.files.push_back(f);
  }
  return s;
}

}  // namespace

Selection select_files(const std::string& repo_id, const std::vector<std::string>& repo_files,
                       const std::string& tag, const std::vector<std::string>& include,
                       const IndexReader& read_index) {
  std::vector<std::string> files = repo_files;
  std::sort(files.begin(), files.end());
  Selection s;
  if (!include.empty()) {
    if (!tag.empty())
      fail(ErrorKind::kInvalidArgument, "give either ", repo_id, ":", tag,
           " (a GGUF quantization) or --include patterns, not both");
    for (const std::string& pattern : include) {
      const std::string p = !pattern.empty() && pattern.back() == '/' ? pattern + "*" : pattern;
      bool matched = false;
      for (const std::string& f : files)
        if (glob_match(p, f)) {
          s.files.push_back(f);
          matched = true;
        }
      if (!matched) fail(ErrorKind::kNotFound, "--include ", pattern, " matches no file of ", repo_id);
    }
  } else {
    const bool has_safetensors = std::any_of(files.begin(), files.end(), [](const std::string& f) {
      return f.find('/') == std::string::npos && ends_with(f, ".safetensors");
    });
    const bool has_gguf = std::any_of(files.begin(), files.end(), is_model_gguf);
    if (!tag.empty() || (!has_safetensors && has_gguf)) {
      s = select_gguf(repo_id, files, tag);
    } else if (has_safetensors) {
      s = select_folder(repo_id, files, read_index);
    } else {
      fail(ErrorKind::kUnsupported, repo_id,
           " has no weights kantu can run (no *.safetensors at the top and no *.gguf files)");
    }
  }
  std::sort(s.files.begin(), s.files.end());
  s.files.erase(std::unique(s.files.begin(), s.files.end()), s.files.end());
  return s;
}

std::vector<std::string> parse_safetensors_index(const std::string& json_text, const std::string& what) {
  const Json j = parse_json(json_text, what);
  if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
    fail(ErrorKind::kCorrupt, what, ": no weight_map object");
  std::set<std::string> shards;
  for (const auto& [tensor, file] : j["weight_map"].items()) {
    if (!file.is_string()) fail(ErrorKind::kCorrupt, what, ": weight_map[", tensor, "] is not a file name");
    shards.insert(file.get<std::string>());
  }
  if (shards.empty()) fail(ErrorKind::kCorrupt, what, ": weight_map is empty");
  return {shards.begin(), shards.end()};
}

std::string gguf_file_tag(const std::string& path) { return parse_gguf_name(path).tag; }

bool glob_match(const std::string& pattern, const std::string& path) {
  return ::fnmatch(pattern.c_str(), path.c_str(), 0) == 0;
}

}  // namespace kantu::hub
