// safetensors files: an 8-byte little-endian header length, a JSON header, then the data.
// Reading validates everything before any tensor is used; writing is for synthesized
// models, dumps and test artifacts.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/mapped_file.h"
#include "core/tensor.h"

namespace kantu {

class SafetensorsFile {
 public:
  // Maps and validates: header JSON, dtypes, shape x dtype size = byte length,
  // offsets inside the data section and non-overlapping, file not truncated.
  // Every failure is Error(kCorrupt) naming the file (and the tensor).
  static SafetensorsFile open(const std::string& path);

  const std::string& path() const { return file_.path(); }
  bool has(const std::string& name) const { return tensors_.count(name) != 0; }
  // Throws Error(kNotFound) naming the file and the tensor.
  const TensorView& get(const std::string& name) const;
  const std::map<std::string, TensorView>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  MappedFile file_;
  std::map<std::string, TensorView> tensors_;
  std::map<std::string, std::string> metadata_;
};

// A tensor to write; data must hold numel * dtype_size bytes.
struct TensorToWrite {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const void* data;
};

// Writes atomically (to path + ".tmp", then rename) so a crash never leaves a half file.
void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace kantu
