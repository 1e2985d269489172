#include "formats/weight_store.h"

#include <set>

#include "core/error.h"
#include "core/json.h"
#include "core/mapped_file.h"

namespace kantu {

WeightStore WeightStore::open_files(const std::vector<std::string>& paths) {
  WeightStore store;
  std::map<std::string, std::string> owner;  // tensor -> file that defined it first
  for (const auto& path : paths) {
    store.files_.push_back(std::make_unique<SafetensorsFile>(SafetensorsFile::open(path)));
    store.paths_.push_back(path);
    for (const auto& [name, view] : store.files_.back()->tensors()) {
      if (!store.index_.emplace(name, &view).second) {
        fail(ErrorKind::kCorrupt, "tensor '", name, "' appears in both ", owner[name], " and ", path);
      }
      owner[name] = path;
    }
  }
  return store;
}

WeightStore WeightStore::open_folder(const std::string& dir) {
  const std::string single = dir + "/model.safetensors";
  const std::string index_path = dir + "/model.safetensors.index.json";
  if (file_exists(index_path)) {
    Json index = read_json_file(index_path);
    auto map = index.find("weight_map");
    if (map == index.end() || !map->is_object()) {
      fail(ErrorKind::kCorrupt, index_path, ": no weight_map object");
    }
    std::set<std::string> shard_names;
    for (const auto& [tensor, shard] : map->items()) {
      if (!shard.is_string()) fail(ErrorKind::kCorrupt, index_path, ": weight_map.", tensor, " is not a string");
      const std::string s = shard.get<std::string>();
      if (s.empty() || s.find('/') != std::string::npos || s.find("..") != std::string::npos) {
        fail(ErrorKind::kCorrupt, index_path, ": weight_map.", tensor, " names an invalid file '", s, "'");
      }
      shard_names.insert(s);
    }
    std::vector<std::string> paths;
    for (const auto& s : shard_names) paths.push_back(dir + "/" + s);
    WeightStore store = open_files(paths);
    std::vector<std::string> missing;
    for (const auto& [tensor, shard] : map->items()) {
      if (!store.has(tensor)) missing.push_back(tensor + " (in " + shard.get<std::string>() + ")");
    }
    if (!missing.empty()) {
      std::string list;
      for (const auto& m : missing) list += "\n  " + m;
      fail(ErrorKind::kCorrupt, index_path, ": ", missing.size(),
           " tensors listed in the index are not in their shard:", list);
    }
    return store;
  }
  if (file_exists(single)) return open_files({single});
  fail(ErrorKind::kNotFound, dir, ": no model.safetensors or model.safetensors.index.json");
}

const TensorView& WeightStore::get(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) fail(ErrorKind::kNotFound, "weights have no tensor '", name, "'");
  return *it->second;
}

void WeightStore::require(const std::vector<std::string>& names, const std::string& what) const {
  std::string list;
  size_t n = 0;
  for (const auto& name : names) {
    if (!has(name)) {
      list += "\n  " + name;
      ++n;
    }
  }
  if (n) fail(ErrorKind::kNotFound, what, ": ", n, " required tensors are missing:", list);
}

}  // namespace kantu
