// GGUF files (llama.cpp's format, versions 2 and 3): a little-endian header, typed
// metadata key/values, tensor infos, then the tensor data at an aligned offset.
//
// Reading is for files from anywhere (downloads, converters, fuzzers): every count,
// length and offset is checked against the bytes that are left before it is used, so a
// hostile file gives an Error (kCorrupt, or kUnsupported for a valid but unhandled type),
// never a huge allocation, an out-of-range read or a crash. Errors name the file and the
// key or tensor. Tensors are views into the mapping; nothing is copied.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/mapped_file.h"
#include "core/tensor.h"

namespace kantu {

// The metadata value types, numbered as in the file.
enum class GgufType : uint32_t {
  kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7,
  kString = 8, kArray = 9, kU64 = 10, kI64 = 11, kF64 = 12,
};
const char* gguf_type_name(GgufType type);

// One metadata entry. Scalars are arrays of one element (count = 1, is_array = false).
struct GgufKv {
  std::string key;
  bool is_array = false;
  GgufType type = GgufType::kU8;  // the element type for arrays
  uint64_t count = 1;
  const uint8_t* data = nullptr;         // numeric/bool values, little-endian, unaligned
  std::vector<std::string_view> strings;  // string values (views into the file)
};

class GgufFile {
 public:
  // Maps and validates the whole file (header, metadata, tensor infos, every tensor's
  // bytes inside the data section and not overlapping another). Error(kNotFound) for a
  // missing file; see the header comment for the rest.
  static GgufFile open(const std::string& path);
  // The same over bytes in memory (copied into an aligned buffer the object owns);
  // `name` stands for the path in errors. For fuzzing and tests.
  static GgufFile parse(std::string_view bytes, const std::string& name);

  GgufFile() = default;
  GgufFile(GgufFile&&) = default;
  GgufFile& operator=(GgufFile&&) = default;

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }

  // ---- metadata ----
  const std::vector<GgufKv>& metadata() const { return kvs_; }
  bool has(const std::string& key) const { return kv_index_.count(key) != 0; }
  const GgufKv* find(const std::string& key) const;
  // Typed getters: Error(kNotFound) naming the file and key when absent, Error(kCorrupt)
  // when the stored type does not fit (an integer getter takes any integer type whose
  // value fits; a float getter also takes integers).
  std::string string(const std::string& key) const;
  int64_t integer(const std::string& key) const;
  uint64_t unsigned_integer(const std::string& key) const;
  double number(const std::string& key) const;
  bool boolean(const std::string& key) const;
  std::vector<int64_t> integers(const std::string& key) const;  // an array of integers
  std::vector<double> numbers(const std::string& key) const;     // an array of numbers
  std::vector<bool> booleans(const std::string& key) const;      // an array of bools
  const std::vector<std::string_view>& strings(const std::string& key) const;  // string array

  // ---- tensors ----
  bool has_tensor(const std::string& name) const { return tensors_.count(name) != 0; }
  // Throws Error(kNotFound) naming the file and the tensor.
  const TensorView& tensor(const std::string& name) const;
  // Shape is ours: outermost first (GGUF's ne[] reversed), so a matrix is [rows, cols].
  const std::map<std::string, TensorView>& tensors() const { return tensors_; }
  // Tensor names in file order.
  const std::vector<std::string>& tensor_order() const { return order_; }

 private:
  void index(const uint8_t* base, size_t size);
  const GgufKv& require(const std::string& key) const;
  [[noreturn]] void wrong_type(const GgufKv& kv, const char* expected) const;

  std::string path_;
  MappedFile file_;
  std::vector<uint64_t> owned_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<GgufKv> kvs_;
  std::map<std::string, size_t> kv_index_;
  std::map<std::string, TensorView> tensors_;
  std::vector<std::string> order_;
};

// ggml's tensor type number for a DType that GGUF files may hold (F32, F16, BF16, Q8_0,
// Q4_0, Q4_K, Q5_K, Q6_K; also I8/I16/I32/I64/F64), or nullopt.
std::optional<uint32_t> ggml_type_of(DType dtype);
// The inverse; nullopt for a ggml type kantu does not handle.
std::optional<DType> dtype_of_ggml_type(uint32_t ggml_type);

}  // namespace kantu
