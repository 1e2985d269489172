// safetensors files: an 8-byte little-endian header length, a JSON header, then the data.
// Reading validates everything before any tensor is used; writing is for synthesized
// models, dumps and test artifacts.
#pragma once

#include <map>
#include <string>
#include <string_view>
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
  // The same validation over bytes in memory (copied into an aligned buffer the object
  // owns); `name` stands for the path in errors. For fuzzing and embedded data.
  static SafetensorsFile parse(std::string_view bytes, const std::string& name);

  SafetensorsFile() = default;
  SafetensorsFile(SafetensorsFile&&) = default;
  SafetensorsFile& operator=(SafetensorsFile&&) = default;

  const std::string& path() const { return path_; }
  bool has(const std::string& name) const { return tensors_.count(name) != 0; }
  // Throws Error(kNotFound) naming the file and the tensor.
  const TensorView& get(const std::string& name) const;
  const std::map<std::string, TensorView>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  // Fills tensors_ and metadata_ from the whole file's bytes; throws on any problem.
  void index(const uint8_t* base, size_t size);

  std::string path_;
  MappedFile file_;               // the mapping, when opened from a file
  std::vector<uint64_t> owned_;   // the bytes, when parsed from memory (8-byte aligned)
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

// Writes atomically; tensors are laid out by element size (largest first) so every
// tensor is aligned to its element size, as the reference writer does. Written to
// path + ".tmp", then renamed, so a crash never leaves a half file. Bad arguments
// (negative dims, null data, duplicate names) are Error(kInvalidArgument).
void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace kantu
