#include "eval/java_metrics.h"

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>

#include "core/error.h"
#include "core/json.h"
#include "core/subprocess.h"

namespace kantu::eval {
namespace {

namespace fs = std::filesystem;

fs::path checked_jar(const std::string& jar, const char* name) {
  std::error_code ec;
  fs::path path = fs::absolute(jar, ec);
  if (ec || !fs::is_regular_file(path, ec))
    fail(ErrorKind::kNotFound, name, " jar not found: ", jar);
  std::ifstream in(path, std::ios::binary);
  char magic[2] = {0, 0};
  in.read(magic, 2);
  if (magic[0] != 'P' || magic[1] != 'K')
    fail(ErrorKind::kCorrupt, name, " jar ", jar, " is not a jar (zip) file");
  return path;
}

double parse_number(const std::string& text, const char* what) {
  try {
    size_t used = 0;
    double v = std::stod(text, &used);
    return v;
  } catch (const std::exception&) {
    fail(ErrorKind::kCorrupt, what, " answered '", text, "' where a number was expected");
  }
}

std::string without_separator(std::string s) {
  for (size_t p = s.find("|||"); p != std::string::npos; p = s.find("|||")) s.erase(p, 3);
  return s;
}

}  // namespace

JarScores run_meteor(const std::string& jar, const std::vector<ScoringItem>& items) {
  fs::path path = checked_jar(jar, "METEOR");
  Subprocess java({"java", "-jar", "-Xmx2G", path.filename().string(), "-", "-", "-stdio", "-l",
                   "en", "-norm"},
                  path.parent_path().string());
  std::string eval_line = "EVAL";
  for (const ScoringItem& item : items) {
    std::string line = "SCORE";
    for (const std::string& r : item.references) line += " ||| " + r;
    line += " ||| " + without_separator(item.candidate);
    java.write_line(line);
    eval_line += " ||| " + java.read_line();
  }
  java.write_line(eval_line);
  JarScores out;
  for (size_t i = 0; i < items.size(); ++i)
    out.per_image.push_back(parse_number(java.read_line(), "METEOR"));
  out.corpus = parse_number(java.read_line(), "METEOR");
  java.wait();
  return out;
}

JarScores run_spice(const std::string& jar, const std::vector<std::string>& image_ids,
                    const std::vector<ScoringItem>& items) {
  fs::path path = checked_jar(jar, "SPICE");
  fs::path dir = fs::temp_directory_path() / ("kantu-spice-" + std::to_string(getpid()));
  fs::create_directories(dir);
  Json input = Json::array();
  for (size_t i = 0; i < items.size(); ++i)
    input.push_back({{"image_id", image_ids[i]}, {"test", items[i].candidate}, {"refs", items[i].references}});
  fs::path in_file = dir / "in.json", out_file = dir / "out.json";
  std::ofstream(in_file) << input.dump();
  int status = 0;
  std::string err;
  {
    Subprocess java({"java", "-jar", "-Xmx8G", path.filename().string(), in_file.string(), "-cache",
                     (path.parent_path() / "cache").string(), "-out", out_file.string(), "-subset",
                     "-silent"},
                    path.parent_path().string());
    status = java.wait();
    err = java.stderr_tail();
  }
  if (status != 0 || !fs::exists(out_file)) {
    fs::remove_all(dir);
    fail(ErrorKind::kUnsupported, "SPICE failed (exit ", status, "): ", err);
  }
  Json result = read_json_file(out_file.string());
  fs::remove_all(dir);
  std::map<std::string, double> by_id;
  for (const Json& r : result) {
    double f = std::numeric_limits<double>::quiet_NaN();
    const Json& v = r.at("scores").at("All").at("f");
    if (v.is_number()) f = v.get<double>();
    by_id[r.at("image_id").is_string() ? r.at("image_id").get<std::string>() : r.at("image_id").dump()] = f;
  }
  JarScores out;
  double sum = 0;
  for (const std::string& id : image_ids) {
    auto it = by_id.find(id);
    double f = it == by_id.end() ? std::numeric_limits<double>::quiet_NaN() : it->second;
    out.per_image.push_back(f);
    sum += f;  // NaN propagates, as np.mean does in the reference
  }
  out.corpus = sum / static_cast<double>(image_ids.size());
  return out;
}

}  // namespace kantu::eval
