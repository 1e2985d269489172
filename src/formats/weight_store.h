// All the weights of a model, looked up by name across one or more safetensors files
// (a single model.safetensors, or shards listed by model.safetensors.index.json).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
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

  bool has(const std::string& name) const { return index_.count(name) != 0; }
  // Throws Error(kNotFound) naming the tensor.
  const TensorView& get(const std::string& name) const;
  // Throws one Error(kNotFound) listing every name in `names` that is absent.
  void require(const std::vector<std::string>& names, const std::string& what) const;

  const std::map<std::string, const TensorView*>& tensors() const { return index_; }
  const std::vector<std::string>& files() const { return paths_; }
  // The path of the file holding the tensor; Error(kNotFound) if absent.
  const std::string& file_of(const std::string& name) const;
  // The opened file at files()[i].
  const SafetensorsFile& file(size_t i) const { return *files_.at(i); }

 private:
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::vector<std::string> paths_;
  std::map<std::string, const TensorView*> index_;
  std::map<std::string, size_t> owner_;  // tensor name -> index into files_ / paths_
};

}  // namespace kantu
