// GGUF v3 writer: everything little-endian (x86-64), strings as u64 length + bytes.
#include "formats/gguf_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "formats/gguf.h"

namespace kantu {

namespace {

// GGUF metadata value types, numbered as in the file.
enum : uint32_t {
  kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7,
  kString = 8, kArray = 9, kU64 = 10, kI64 = 11, kF64 = 12,
};

constexpr uint32_t kVersion = 3;
constexpr size_t kMaxNameBytes = 63;  // ggml's GGML_MAX_NAME (64) with the terminator
constexpr size_t kMaxDims = 4;        // GGML_MAX_DIMS

template <typename T>
void put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));  // the host is little-endian, like the format
  out.append(bytes, sizeof(T));
}

void put_string(std::string& out, const std::string& s) {
  put<uint64_t>(out, s.size());
  out += s;
}

template <typename T>
std::string encode(std::span<const T> values) {
  std::string out;
  out.reserve(values.size() * sizeof(T));
  for (const T& v : values) put<T>(out, v);
  return out;
}

uint32_t ggml_type(DType dtype) {
  const std::optional<uint32_t> t = ggml_type_of(dtype);
  if (!t) fail(ErrorKind::kUnsupported, "GGUF has no tensor type for ", dtype_name(dtype));
  return *t;
}

uint64_t align_up(uint64_t n, uint64_t alignment) { return (n + alignment - 1) / alignment * alignment; }

void write_all(int fd, const char* p, size_t size, uint64_t offset, const std::string& path) {
  while (size > 0) {
    const ssize_t n = ::pwrite(fd, p, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail(ErrorKind::kInternal, path, ": write failed: ", std::strerror(errno));
    p += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
}

}  // namespace

GgufWriter::GgufWriter(std::string path, uint32_t alignment)
    : path_(std::move(path)), alignment_(alignment) {
  if (path_.empty()) fail(ErrorKind::kInvalidArgument, "GGUF writer: empty output path");
  if (alignment_ == 0 || (alignment_ & (alignment_ - 1)) != 0)
    fail(ErrorKind::kInvalidArgument, "GGUF alignment must be a power of two, got ", alignment_);
  if (alignment_ != kDefaultAlignment) add_uint32("general.alignment", alignment_);
}

GgufWriter::~GgufWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!finished_ && !temp_path_.empty()) {
    std::error_code ignored;
    std::filesystem::remove(temp_path_, ignored);
  }
}

void GgufWriter::require_open_for_declarations() const {
  if (fd_ >= 0 || finished_)
    fail(ErrorKind::kInternal, path_, ": GGUF metadata and tensors must be added before begin_data()");
}

void GgufWriter::add_kv(const std::string& key, uint32_t type, std::string encoded_value) {
  require_open_for_declarations();
  if (key.empty()) fail(ErrorKind::kInvalidArgument, path_, ": empty GGUF metadata key");
  if (std::find(keys_.begin(), keys_.end(), key) != keys_.end())
    fail(ErrorKind::kInvalidArgument, path_, ": GGUF metadata key '", key, "' added twice");
  keys_.push_back(key);
  put_string(kv_bytes_, key);
  put<uint32_t>(kv_bytes_, type);
  kv_bytes_ += encoded_value;
}

void GgufWriter::add_kv_array(const std::string& key, uint32_t elem_type, uint64_t count,
                              std::string encoded_elems) {
  std::string value;
  put<uint32_t>(value, elem_type);
  put<uint64_t>(value, count);
  value += encoded_elems;
  add_kv(key, kArray, std::move(value));
}

#define KANTU_GGUF_SCALAR(method, T, code)                           \
  void GgufWriter::method(const std::string& key, T value) {        \
    std::string v;                                                   \
    put<T>(v, value);                                                \
    add_kv(key, code, std::move(v));                                 \
  }                                                                  \
  void GgufWriter::add_array(const std::string& key, std::span<const T> values) { \
    add_kv_array(key, code, values.size(), encode(values));          \
  }
KANTU_GGUF_SCALAR(add_uint8, uint8_t, kU8)
KANTU_GGUF_SCALAR(add_int8, int8_t, kI8)
KANTU_GGUF_SCALAR(add_uint16, uint16_t, kU16)
KANTU_GGUF_SCALAR(add_int16, int16_t, kI16)
KANTU_GGUF_SCALAR(add_uint32, uint32_t, kU32)
KANTU_GGUF_SCALAR(add_int32, int32_t, kI32)
KANTU_GGUF_SCALAR(add_uint64, uint64_t, kU64)
KANTU_GGUF_SCALAR(add_int64, int64_t, kI64)
KANTU_GGUF_SCALAR(add_float32, float, kF32)
KANTU_GGUF_SCALAR(add_float64, double, kF64)
#undef KANTU_GGUF_SCALAR

void GgufWriter::add_bool(const std::string& key, bool value) {
  add_kv(key, kBool, std::string(1, value ? '\1' : '\0'));
}

void GgufWriter::add_string(const std::string& key, const std::string& value) {
  std::string v;
  put_string(v, value);
  add_kv(key, kString, std::move(v));
}

void GgufWriter::add_array(const std::string& key, std::span<const std::string> values) {
  std::string v;
  for (const std::string& s : values) put_string(v, s);
  add_kv_array(key, kString, values.size(), std::move(v));
}

void GgufWriter::add_bool_array(const std::string& key, const std::vector<bool>& values) {
  std::string v;
  for (bool b : values) v.push_back(b ? '\1' : '\0');
  add_kv_array(key, kBool, values.size(), std::move(v));
}

size_t GgufWriter::add_tensor(const std::string& name, DType dtype,
                              const std::vector<int64_t>& shape) {
  require_open_for_declarations();
  if (name.empty() || name.size() > kMaxNameBytes)
    fail(ErrorKind::kInvalidArgument, path_, ": GGUF tensor name '", name,
         "' must have 1 to ", kMaxNameBytes, " bytes");
  for (const Tensor& t : tensors_)
    if (t.name == name)
      fail(ErrorKind::kInvalidArgument, path_, ": GGUF tensor '", name, "' added twice");
  if (shape.empty() || shape.size() > kMaxDims)
    fail(ErrorKind::kInvalidArgument, path_, ": GGUF tensor '", name, "' must have 1 to ",
         kMaxDims, " dims, got ", shape.size());
  ggml_type(dtype);  // rejects types GGUF cannot hold
  int64_t numel = 1;
  for (int64_t d : shape) {
    if (d <= 0 || numel > (int64_t{1} << 48) / d)
      fail(ErrorKind::kInvalidArgument, path_, ": GGUF tensor '", name, "' has a bad shape");
    numel *= d;
  }
  if (shape.back() % dtype_block_elems(dtype) != 0)
    fail(ErrorKind::kInvalidArgument, path_, ": GGUF tensor '", name, "': innermost dim ",
         shape.back(), " is not a whole number of ", dtype_name(dtype), " blocks (",
         dtype_block_elems(dtype), " values)");
  Tensor t{name, dtype, shape, dtype_bytes(dtype, numel), data_bytes_};
  data_bytes_ = align_up(data_bytes_ + t.bytes, alignment_);
  tensors_.push_back(std::move(t));
  return tensors_.size() - 1;
}

uint64_t GgufWriter::tensor_bytes(size_t index) const {
  KANTU_CHECK(index < tensors_.size());
  return tensors_[index].bytes;
}

void GgufWriter::begin_data() {
  require_open_for_declarations();
  std::string head;
  head += "GGUF";
  put<uint32_t>(head, kVersion);
  put<uint64_t>(head, tensors_.size());
  put<uint64_t>(head, keys_.size());
  head += kv_bytes_;
  for (const Tensor& t : tensors_) {
    put_string(head, t.name);
    put<uint32_t>(head, static_cast<uint32_t>(t.shape.size()));
    for (auto d = t.shape.rbegin(); d != t.shape.rend(); ++d) put<uint64_t>(head, static_cast<uint64_t>(*d));
    put<uint32_t>(head, ggml_type(t.dtype));
    put<uint64_t>(head, t.offset);
  }
  data_start_ = align_up(head.size(), alignment_);
  head.resize(data_start_, '\0');

  const std::filesystem::path final_path(path_);
  temp_path_ = (final_path.parent_path() /
                (final_path.filename().string() + ".partial-" + std::to_string(::getpid())))
                   .string();
  fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0)
    fail(ErrorKind::kInternal, temp_path_, ": cannot create: ", std::strerror(errno));
  write_all(fd_, head.data(), head.size(), 0, temp_path_);
  // The padding after each tensor (and after the last one: readers expect the whole
  // aligned data section) comes from sizing the file; unwritten ranges read as zeros.
  if (::ftruncate(fd_, static_cast<off_t>(data_start_ + data_bytes_)) != 0)
    fail(ErrorKind::kInternal, temp_path_, ": cannot size the file: ", std::strerror(errno));
  written_ = std::make_unique<std::atomic<uint64_t>[]>(tensors_.size());
}

void GgufWriter::write_tensor_data(size_t index, uint64_t offset, const void* data, size_t bytes) {
  if (fd_ < 0) fail(ErrorKind::kInternal, path_, ": write_tensor_data before begin_data()");
  KANTU_CHECK(index < tensors_.size());
  const Tensor& t = tensors_[index];
  if (offset > t.bytes || bytes > t.bytes - offset)
    fail(ErrorKind::kInternal, path_, ": write past the end of tensor '", t.name, "' (",
         offset, " + ", bytes, " > ", t.bytes, ")");
  write_all(fd_, static_cast<const char*>(data), bytes, data_start_ + t.offset + offset, temp_path_);
  written_[index].fetch_add(bytes, std::memory_order_relaxed);
}

void GgufWriter::finish() {
  if (fd_ < 0) fail(ErrorKind::kInternal, path_, ": finish() before begin_data()");
  for (size_t i = 0; i < tensors_.size(); ++i)
    if (written_[i].load() != tensors_[i].bytes)
      fail(ErrorKind::kInternal, path_, ": tensor '", tensors_[i].name, "' got ",
           written_[i].load(), " of its ", tensors_[i].bytes, " bytes");
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0)
    fail(ErrorKind::kInternal, temp_path_, ": close failed: ", std::strerror(errno));
  std::error_code ec;
  std::filesystem::rename(temp_path_, path_, ec);
  if (ec) fail(ErrorKind::kInternal, "cannot rename ", temp_path_, " to ", path_, ": ", ec.message());
  finished_ = true;
}

}  // namespace kantu
