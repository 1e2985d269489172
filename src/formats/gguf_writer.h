// Writes GGUF v3 files (llama.cpp's format): "GGUF", version, tensor and metadata
// counts, typed metadata key/values, tensor infos (name, ggml dims, ggml type, offset),
// then the tensor data, each tensor at an offset that is a multiple of the alignment.
//
// Streaming: the metadata and tensor list are declared first, begin_data() writes the
// header and sizes the file, and tensor bytes are then written in pieces, in any order
// and from any number of threads (pwrite), so a multi-GB model never has to be in
// memory. The file appears at `path` only when finish() succeeds (temp file + rename);
// a writer destroyed before that removes its temporary file.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace kantu {

class GgufWriter {
 public:
  static constexpr uint32_t kDefaultAlignment = 32;

  // `alignment` must be a power of two; other than 32 it is recorded as general.alignment.
  explicit GgufWriter(std::string path, uint32_t alignment = kDefaultAlignment);
  ~GgufWriter();
  GgufWriter(const GgufWriter&) = delete;
  GgufWriter& operator=(const GgufWriter&) = delete;

  // ---- metadata, in the order added; a repeated key is Error(kInvalidArgument) ----
  void add_uint8(const std::string& key, uint8_t value);
  void add_int8(const std::string& key, int8_t value);
  void add_uint16(const std::string& key, uint16_t value);
  void add_int16(const std::string& key, int16_t value);
  void add_uint32(const std::string& key, uint32_t value);
  void add_int32(const std::string& key, int32_t value);
  void add_uint64(const std::string& key, uint64_t value);
  void add_int64(const std::string& key, int64_t value);
  void add_float32(const std::string& key, float value);
  void add_float64(const std::string& key, double value);
  void add_bool(const std::string& key, bool value);
  void add_string(const std::string& key, const std::string& value);
  void add_array(const std::string& key, std::span<const uint8_t> values);
  void add_array(const std::string& key, std::span<const int8_t> values);
  void add_array(const std::string& key, std::span<const uint16_t> values);
  void add_array(const std::string& key, std::span<const int16_t> values);
  void add_array(const std::string& key, std::span<const uint32_t> values);
  void add_array(const std::string& key, std::span<const int32_t> values);
  void add_array(const std::string& key, std::span<const uint64_t> values);
  void add_array(const std::string& key, std::span<const int64_t> values);
  void add_array(const std::string& key, std::span<const float> values);
  void add_array(const std::string& key, std::span<const double> values);
  void add_array(const std::string& key, std::span<const std::string> values);
  void add_bool_array(const std::string& key, const std::vector<bool>& values);

  // ---- tensors ----
  // `shape` is outermost first (as in safetensors / PyTorch); the file stores it
  // reversed as ggml's ne[]. At most 4 dims, names up to 63 bytes (ggml's limits), the
  // innermost dim a whole number of blocks for quantized types, a type GGUF can hold
  // (formats/gguf.h ggml_type_of; else Error(kUnsupported)). Returns the tensor's
  // index for write_tensor_data.
  size_t add_tensor(const std::string& name, DType dtype, const std::vector<int64_t>& shape);

  // Writes header, metadata and tensor infos to the temporary file and sizes it; after
  // this no metadata or tensor can be added.
  void begin_data();
  // Writes `bytes` bytes of tensor `index` starting `offset` bytes into its data. Safe to
  // call concurrently for disjoint ranges.
  void write_tensor_data(size_t index, uint64_t offset, const void* data, size_t bytes);
  // Checks that every tensor byte was written, flushes, and renames the temporary file
  // to the final path.
  void finish();

  size_t tensor_count() const { return tensors_.size(); }
  uint64_t tensor_bytes(size_t index) const;
  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_path_; }

 private:
  struct Tensor {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    uint64_t bytes = 0;
    uint64_t offset = 0;  // within the data section
  };
  void add_kv(const std::string& key, uint32_t type, std::string encoded_value);
  void add_kv_array(const std::string& key, uint32_t elem_type, uint64_t count,
                    std::string encoded_elems);
  void require_open_for_declarations() const;

  std::string path_;
  std::string temp_path_;
  uint32_t alignment_;
  std::vector<std::string> keys_;
  std::string kv_bytes_;  // encoded key/value pairs
  std::vector<Tensor> tensors_;
  uint64_t data_bytes_ = 0;
  uint64_t data_start_ = 0;  // absolute file offset of the data section
  int fd_ = -1;
  bool finished_ = false;
  std::unique_ptr<std::atomic<uint64_t>[]> written_;  // bytes written per tensor
};

}  // namespace kantu
