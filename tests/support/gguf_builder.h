// A test-only GGUF byte builder: metadata and tensors in, file bytes out, with hooks to
// produce broken files (wrong counts, offsets, types) for the reader's error tests.
// It knows the format, not any model; the real writer is src/formats/gguf_writer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kantu::test {

class GgufBuilder {
 public:
  // Metadata (GGUF value types: u8=0 i8 u16 i16 u32 i32 f32 bool string array u64 i64 f64).
  GgufBuilder& u32(const std::string& key, uint32_t v);
  GgufBuilder& i32(const std::string& key, int32_t v);
  GgufBuilder& u64(const std::string& key, uint64_t v);
  GgufBuilder& f32(const std::string& key, float v);
  GgufBuilder& f64(const std::string& key, double v);
  GgufBuilder& boolean(const std::string& key, bool v);
  GgufBuilder& str(const std::string& key, const std::string& v);
  GgufBuilder& i32s(const std::string& key, const std::vector<int32_t>& v);
  GgufBuilder& f32s(const std::string& key, const std::vector<float>& v);
  GgufBuilder& bools(const std::string& key, const std::vector<bool>& v);
  GgufBuilder& strs(const std::string& key, const std::vector<std::string>& v);
  // A raw entry: key, then `value_bytes` verbatim after the type (for corrupt variants).
  GgufBuilder& raw(const std::string& key, uint32_t type, const std::string& value_bytes);

  // A tensor; shape is ours (outermost first), written as ggml ne[] (reversed). `data`
  // must hold the tensor's bytes; offsets are assigned in order, aligned.
  GgufBuilder& tensor(const std::string& name, uint32_t ggml_type, std::vector<int64_t> shape,
                      std::string data);

  GgufBuilder& version(uint32_t v) { version_ = v; return *this; }
  GgufBuilder& alignment(uint32_t a) { alignment_ = a; return *this; }  // layout only
  // Overrides for corrupt files: the counts written in the header, a tensor's offset.
  GgufBuilder& tensor_count_override(uint64_t n) { tensor_count_ = n; has_tensor_count_ = true; return *this; }
  GgufBuilder& kv_count_override(uint64_t n) { kv_count_ = n; has_kv_count_ = true; return *this; }
  GgufBuilder& offset_override(size_t tensor_index, uint64_t offset);

  std::string build() const;
  void write(const std::string& path) const;

 private:
  struct Tensor {
    std::string name;
    uint32_t type;
    std::vector<int64_t> shape;
    std::string data;
    bool has_offset = false;
    uint64_t offset = 0;
  };
  uint32_t version_ = 3;
  uint32_t alignment_ = 32;
  std::vector<std::string> kvs_;  // encoded entries
  std::vector<Tensor> tensors_;
  uint64_t tensor_count_ = 0, kv_count_ = 0;
  bool has_tensor_count_ = false, has_kv_count_ = false;
};

// Little-endian encodings for building raw values.
std::string le32(uint32_t v);
std::string le64(uint64_t v);
std::string gguf_string(const std::string& s);  // u64 length + bytes

}  // namespace kantu::test
