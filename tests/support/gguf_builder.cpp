#include "support/gguf_builder.h"

#include <cstring>
#include <fstream>
#include <stdexcept>

namespace kantu::test {

std::string le32(uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}
std::string le64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}
std::string gguf_string(const std::string& s) { return le64(s.size()) + s; }

namespace {
template <typename T>
std::string bytes_of(T v) {
  std::string s(sizeof(T), '\0');
  std::memcpy(s.data(), &v, sizeof(T));
  return s;
}
}  // namespace

GgufBuilder& GgufBuilder::raw(const std::string& key, uint32_t type, const std::string& value) {
  kvs_.push_back(gguf_string(key) + le32(type) + value);
  return *this;
}
GgufBuilder& GgufBuilder::u32(const std::string& k, uint32_t v) { return raw(k, 4, le32(v)); }
GgufBuilder& GgufBuilder::i32(const std::string& k, int32_t v) { return raw(k, 5, bytes_of(v)); }
GgufBuilder& GgufBuilder::u64(const std::string& k, uint64_t v) { return raw(k, 10, le64(v)); }
GgufBuilder& GgufBuilder::f32(const std::string& k, float v) { return raw(k, 6, bytes_of(v)); }
GgufBuilder& GgufBuilder::f64(const std::string& k, double v) { return raw(k, 12, bytes_of(v)); }
GgufBuilder& GgufBuilder::boolean(const std::string& k, bool v) {
  return raw(k, 7, std::string(1, v ? '\1' : '\0'));
}
GgufBuilder& GgufBuilder::str(const std::string& k, const std::string& v) {
  return raw(k, 8, gguf_string(v));
}
GgufBuilder& GgufBuilder::i32s(const std::string& k, const std::vector<int32_t>& v) {
  std::string s = le32(5) + le64(v.size());
  for (int32_t x : v) s += bytes_of(x);
  return raw(k, 9, s);
}
GgufBuilder& GgufBuilder::f32s(const std::string& k, const std::vector<float>& v) {
  std::string s = le32(6) + le64(v.size());
  for (float x : v) s += bytes_of(x);
  return raw(k, 9, s);
}
GgufBuilder& GgufBuilder::bools(const std::string& k, const std::vector<bool>& v) {
  std::string s = le32(7) + le64(v.size());
  for (bool x : v) s.push_back(x ? '\1' : '\0');
  return raw(k, 9, s);
}
GgufBuilder& GgufBuilder::strs(const std::string& k, const std::vector<std::string>& v) {
  std::string s = le32(8) + le64(v.size());
  for (const auto& x : v) s += gguf_string(x);
  return raw(k, 9, s);
}

GgufBuilder& GgufBuilder::tensor(const std::string& name, uint32_t ggml_type,
                                 std::vector<int64_t> shape, std::string data) {
  tensors_.push_back({name, ggml_type, std::move(shape), std::move(data)});
  return *this;
}

GgufBuilder& GgufBuilder::offset_override(size_t i, uint64_t offset) {
  tensors_.at(i).has_offset = true;
  tensors_.at(i).offset = offset;
  return *this;
}

std::string GgufBuilder::build() const {
  const uint64_t align = alignment_;
  auto pad_to = [&](std::string& s, uint64_t base) {
    while ((s.size() - base) % align != 0) s.push_back('\0');
  };
  std::string out = "GGUF" + le32(version_);
  out += le64(has_tensor_count_ ? tensor_count_ : tensors_.size());
  out += le64(has_kv_count_ ? kv_count_ : kvs_.size());
  for (const auto& kv : kvs_) out += kv;
  std::string data;
  for (const auto& t : tensors_) {
    pad_to(data, 0);
    const uint64_t offset = t.has_offset ? t.offset : data.size();
    data += t.data;
    out += gguf_string(t.name) + le32(static_cast<uint32_t>(t.shape.size()));
    for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it) out += le64(static_cast<uint64_t>(*it));
    out += le32(t.type) + le64(offset);
  }
  if (!tensors_.empty()) {
    pad_to(out, 0);
    out += data;
  }
  return out;
}

void GgufBuilder::write(const std::string& path) const {
  std::ofstream f(path, std::ios::binary);
  const std::string bytes = build();
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!f) throw std::runtime_error("cannot write " + path);
}

}  // namespace kantu::test
