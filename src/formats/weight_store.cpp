#include "formats/weight_store.h"

#include <set>

#include "core/error.h"
#include "core/json.h"
#include "core/mapped_file.h"

namespace kantu {

namespace {

// Shard names come from a downloaded file: plain names in the folder, nothing else.
bool is_safe_shard_name(const std::string& s) {
  const std::string suffix = ".safetensors";
  if (s.size() <= suffix.size() || s.compare(s.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return false;
  }
  if (s.front() == '.') return false;
  for (char c : s) {
    if (c == '/' || c == '\\' || c == '\0' || static_cast<unsigned char>(c) < 0x20) return false;
  }
  return true;
}

}  // namespace

WeightStore WeightStore::open_files(const std::vector<std::string>& paths) {
  WeightStore store;
  for (const auto& path : paths) {
    store.files_.push_back(std::make_unique<SafetensorsFile>(SafetensorsFile::open(path)));
    store.paths_.push_back(path);
    const size_t file_index = store.files_.size() - 1;
    for (const auto& [name, view] : store.files_.back()->tensors()) {
      if (!store.index_.emplace(name, &view).second) {
        fail(ErrorKind::kCorrupt, "tensor '", name, "' appears in both ",
             store.paths_[store.owner_.at(name)], " and ", path);
      }
      store.owner_[name] = file_index;
    }
  }
  return store;
}

WeightStore WeightStore::open_folder(const std::string& dir) {
  const std::string single = dir + "/model.safetensors";
  const std::string index_path = dir + "/model.safetensors.index.json";
  if (file_exists(index_path)) {
    const Json index = read_json_file(index_path);
    if (!index.is_object()) fail(ErrorKind::kCorrupt, index_path, ": the top level is not an object");
    auto map = index.find("weight_map");
    if (map == index.end() || !map->is_object()) {
      fail(ErrorKind::kCorrupt, index_path, ": no weight_map object");
    }
    if (map->empty()) fail(ErrorKind::kCorrupt, index_path, ": weight_map lists no tensors");
    std::set<std::string> shard_names;
    for (const auto& [tensor, shard] : map->items()) {
      if (!shard.is_string()) {
        fail(ErrorKind::kCorrupt, index_path, ": weight_map.", tensor, " is not a string");
      }
      const std::string s = shard.get<std::string>();
      if (!is_safe_shard_name(s)) {
        fail(ErrorKind::kCorrupt, index_path, ": weight_map.", tensor, " names an invalid file '", s,
             "' (expected a .safetensors file name in the same folder)");
      }
      shard_names.insert(s);
    }
    std::vector<std::string> paths;
    for (const auto& s : shard_names) {
      const std::string path = dir + "/" + s;
      if (!file_exists(path)) {
        fail(ErrorKind::kNotFound, index_path, ": shard ", s, " is listed but ", path,
             " does not exist");
      }
      paths.push_back(path);
    }
    WeightStore store = open_files(paths);
    std::vector<std::string> missing;
    for (const auto& [tensor, shard] : map->items()) {
      const std::string shard_path = dir + "/" + shard.get<std::string>();
      auto owner = store.owner_.find(tensor);
      if (owner == store.owner_.end()) {
        missing.push_back(tensor + " (not in " + shard.get<std::string>() + ")");
      } else if (store.paths_[owner->second] != shard_path) {
        missing.push_back(tensor + " (listed in " + shard.get<std::string>() + " but found in " +
                          store.paths_[owner->second] + ")");
      }
    }
    if (!missing.empty()) {
      std::string list;
      for (size_t i = 0; i < missing.size() && i < 20; ++i) list += "\n  " + missing[i];
      if (missing.size() > 20) list += cat("\n  ... and ", missing.size() - 20, " more");
      fail(ErrorKind::kCorrupt, index_path, ": ", missing.size(),
           " tensors listed in the index are not in their shard:", list);
    }
    return store;
  }
  if (file_exists(single)) return open_files({single});
  if (file_exists(dir + "/pytorch_model.bin") || file_exists(dir + "/pytorch_model.bin.index.json")) {
    fail(ErrorKind::kUnsupported, dir,
         ": has PyTorch .bin weights; kantu reads safetensors (model.safetensors)");
  }
  fail(ErrorKind::kNotFound, dir, ": no model.safetensors or model.safetensors.index.json");
}

size_t WeightStore::keep(std::shared_ptr<const GgufFile> file) {
  const size_t index = add_path(file->path());
  gguf_files_.push_back(std::move(file));
  return index;
}

size_t WeightStore::add_path(const std::string& path) {
  paths_.push_back(path);
  return paths_.size() - 1;
}

void WeightStore::add(const std::string& name, TensorView view, size_t file_index) {
  KANTU_CHECK(file_index < paths_.size());
  if (index_.count(name)) {
    fail(ErrorKind::kCorrupt, "tensor '", name, "' appears in both ", paths_[owner_.at(name)],
         " and ", paths_[file_index]);
  }
  view.name = name;
  views_.push_back(std::make_unique<TensorView>(std::move(view)));
  index_.emplace(name, views_.back().get());
  owner_[name] = file_index;
}

void WeightStore::add_owned(const std::string& name, DType dtype, std::vector<int64_t> shape,
                            std::vector<uint8_t> bytes, size_t file_index) {
  owned_.push_back(std::make_unique<std::vector<uint8_t>>(std::move(bytes)));
  TensorView view;
  view.dtype = dtype;
  view.shape = std::move(shape);
  view.data = owned_.back()->data();
  view.nbytes = owned_.back()->size();
  KANTU_CHECK(dtype_bytes(dtype, view.numel()) == view.nbytes, "tensor ", name);
  add(name, std::move(view), file_index);
}

size_t WeightStore::tensor_count(size_t i) const {
  size_t n = 0;
  for (const auto& [name, index] : owner_) n += index == i;
  return n;
}

const TensorView& WeightStore::get(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) fail(ErrorKind::kNotFound, "weights have no tensor '", name, "'");
  return *it->second;
}

const std::string& WeightStore::file_of(const std::string& name) const {
  auto it = owner_.find(name);
  if (it == owner_.end()) fail(ErrorKind::kNotFound, "weights have no tensor '", name, "'");
  return paths_[it->second];
}

void WeightStore::require(const std::vector<std::string>& names, const std::string& what) const {
  std::string list;
  size_t n = 0;
  for (const auto& name : names) {
    if (!has(name)) {
      list += "\n  " + name;
      const std::string hint = hint_ ? hint_(name) : std::string();
      if (!hint.empty()) list += " (" + hint + ")";
      ++n;
    }
  }
  if (n) fail(ErrorKind::kNotFound, what, ": ", n, " required tensors are missing:", list);
}

}  // namespace kantu
