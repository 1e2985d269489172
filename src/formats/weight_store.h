// All the weights of a model, looked up by name across one or more safetensors files
// (a single model.safetensors, or shards listed by model.safetensors.index.json), or
// filled by an adapter (a GGUF pair) with views into files the store keeps open and with
// tensors whose bytes it owns (layout conversions).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "formats/gguf.h"
#include "formats/safetensors.h"

namespace kantu {

class WeightStore {
 public:
  // dir holds model.safetensors or model.safetensors.index.json (+ shards).
  // With an index: its JSON, the shard names (plain file names ending in .safetensors,
  // no paths), every shard present, and every listed tensor in the shard the index
  // names are all checked. Errors name the index or shard file and the tensor.
  static WeightStore open_folder(const std::string& dir);
  // Throws Error(kCorrupt) if a tensor name appears in two files.
  static WeightStore open_files(const std::vector<std::string>& paths);

  // ---- filling a store by hand (adapters for other formats) ----
  WeightStore() = default;
  WeightStore(WeightStore&&) = default;
  WeightStore& operator=(WeightStore&&) = default;
  // Keeps `file` mapped for as long as the store lives; returns its index in files().
  size_t keep(std::shared_ptr<const GgufFile> file);
  // Adds `view` (data inside files()[file_index]) under `name`, which may differ from the
  // name in the file. Error(kCorrupt) if the name is taken.
  void add(const std::string& name, TensorView view, size_t file_index);
  // Adds a tensor whose bytes the store owns, derived from files()[file_index].
  void add_owned(const std::string& name, DType dtype, std::vector<int64_t> shape,
                 std::vector<uint8_t> bytes, size_t file_index);

  bool has(const std::string& name) const { return index_.count(name) != 0; }
  // Throws Error(kNotFound) naming the tensor.
  const TensorView& get(const std::string& name) const;
  // Throws one Error(kNotFound) listing every name in `names` that is absent.
  void require(const std::vector<std::string>& names, const std::string& what) const;

  const std::map<std::string, const TensorView*>& tensors() const { return index_; }
  const std::vector<std::string>& files() const { return paths_; }
  // The path of the file holding the tensor; Error(kNotFound) if absent.
  const std::string& file_of(const std::string& name) const;
  // For errors about missing tensors: where the tensor was expected, e.g. its name in
  // the source file ("" for nothing to add).
  void set_name_hint(std::function<std::string(const std::string&)> hint) { hint_ = std::move(hint); }
  // The hint for `name` ("" without one).
  std::string where(const std::string& name) const { return hint_ ? hint_(name) : std::string(); }
  // How many tensors of the store come from files()[i].
  size_t tensor_count(size_t i) const;

 private:
  size_t add_path(const std::string& path);

  std::function<std::string(const std::string&)> hint_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::vector<std::shared_ptr<const GgufFile>> gguf_files_;
  std::vector<std::unique_ptr<TensorView>> views_;           // added views (stable addresses)
  std::vector<std::unique_ptr<std::vector<uint8_t>>> owned_;  // bytes of add_owned tensors
  std::vector<std::string> paths_;
  std::map<std::string, const TensorView*> index_;
  std::map<std::string, size_t> owner_;  // tensor name -> index into files_ / paths_
};

}  // namespace kantu
