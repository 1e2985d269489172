#include "formats/gguf.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "core/error.h"

namespace kantu {

namespace {

constexpr uint32_t kMaxDims = 4;  // GGML_MAX_DIMS
constexpr uint64_t kDefaultAlignment = 32;
// Counts come from the file: reserve at most this many up front (more grow as parsed).
constexpr uint64_t kReserveCap = 1 << 16;

struct GgmlType {
  uint32_t id;
  DType dtype;
};
// ggml's numbering (ggml.h enum ggml_type).
constexpr GgmlType kGgmlTypes[] = {
    {0, DType::kF32},   {1, DType::kF16},   {2, DType::kQ4_0},  {8, DType::kQ8_0},
    {12, DType::kQ4_K}, {13, DType::kQ5_K}, {14, DType::kQ6_K}, {24, DType::kI8},
    {25, DType::kI16},  {26, DType::kI32},  {27, DType::kI64},  {28, DType::kF64},
    {30, DType::kBF16},
};

// ggml types that exist but that kantu has no kernels for, named in errors.
const char* unhandled_ggml_type_name(uint32_t id) {
  switch (id) {
    case 3: return "Q4_1";
    case 6: return "Q5_0";
    case 7: return "Q5_1";
    case 9: return "Q8_1";
    case 10: return "Q2_K";
    case 11: return "Q3_K";
    case 15: return "Q8_K";
    case 16: return "IQ2_XXS";
    case 17: return "IQ2_XS";
    case 18: return "IQ3_XXS";
    case 19: return "IQ1_S";
    case 20: return "IQ4_NL";
    case 21: return "IQ3_S";
    case 22: return "IQ2_S";
    case 23: return "IQ4_XS";
    case 29: return "IQ1_M";
    case 34: return "TQ1_0";
    case 35: return "TQ2_0";
    case 39: return "MXFP4";
    default: return nullptr;
  }
}

size_t scalar_size(GgufType t) {
  switch (t) {
    case GgufType::kU8: case GgufType::kI8: case GgufType::kBool: return 1;
    case GgufType::kU16: case GgufType::kI16: return 2;
    case GgufType::kU32: case GgufType::kI32: case GgufType::kF32: return 4;
    case GgufType::kU64: case GgufType::kI64: case GgufType::kF64: return 8;
    case GgufType::kString: case GgufType::kArray: return 0;
  }
  return 0;
}

bool is_integer_type(GgufType t) {
  switch (t) {
    case GgufType::kU8: case GgufType::kI8: case GgufType::kU16: case GgufType::kI16:
    case GgufType::kU32: case GgufType::kI32: case GgufType::kU64: case GgufType::kI64:
      return true;
    default:
      return false;
  }
}

template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// Reads element i of a numeric value as a signed/unsigned pair: `negative` is set when
// a signed value is below zero (then `magnitude` holds the two's-complement int64).
struct IntValue {
  bool negative = false;
  uint64_t bits = 0;  // the value as uint64 when !negative, else as int64 bits
};

IntValue int_at(GgufType t, const uint8_t* p) {
  IntValue v;
  int64_t s = 0;
  switch (t) {
    case GgufType::kU8: v.bits = load<uint8_t>(p); return v;
    case GgufType::kU16: v.bits = load<uint16_t>(p); return v;
    case GgufType::kU32: v.bits = load<uint32_t>(p); return v;
    case GgufType::kU64: v.bits = load<uint64_t>(p); return v;
    case GgufType::kI8: s = load<int8_t>(p); break;
    case GgufType::kI16: s = load<int16_t>(p); break;
    case GgufType::kI32: s = load<int32_t>(p); break;
    case GgufType::kI64: s = load<int64_t>(p); break;
    default: break;
  }
  v.negative = s < 0;
  v.bits = static_cast<uint64_t>(s);
  return v;
}

double number_at(GgufType t, const uint8_t* p) {
  if (t == GgufType::kF32) return load<float>(p);
  if (t == GgufType::kF64) return load<double>(p);
  const IntValue v = int_at(t, p);
  return v.negative ? static_cast<double>(static_cast<int64_t>(v.bits)) : static_cast<double>(v.bits);
}

// A bounds-checked cursor over the header: every read checks the bytes left, and a
// failure names the file and what was being read.
class Reader {
 public:
  Reader(const uint8_t* base, size_t size, const std::string& path)
      : base_(base), size_(size), path_(path) {}

  size_t pos() const { return pos_; }
  const std::string& path() const { return path_; }
  size_t left() const { return size_ - pos_; }

  [[noreturn]] void corrupt(const std::string& what) const {
    fail(ErrorKind::kCorrupt, path_, ": ", what);
  }

  const uint8_t* take(uint64_t n, const std::string& what) {
    if (n > left()) {
      corrupt(cat("truncated: ", what, " needs ", n, " bytes at offset ", pos_, " but only ",
                  left(), " remain"));
    }
    const uint8_t* p = base_ + pos_;
    pos_ += static_cast<size_t>(n);
    return p;
  }
  template <typename T>
  T read(const std::string& what) {
    return load<T>(take(sizeof(T), what));
  }
  std::string_view string(const std::string& what) {
    const uint64_t n = read<uint64_t>(what + " (length)");
    if (n > left()) {
      corrupt(cat(what, " claims ", n, " bytes but only ", left(), " remain in the file"));
    }
    const uint8_t* p = take(n, what);
    return {reinterpret_cast<const char*>(p), static_cast<size_t>(n)};
  }

 private:
  const uint8_t* base_;
  size_t size_;
  size_t pos_ = 0;
  const std::string& path_;
};

GgufType read_type(Reader& r, const std::string& what) {
  const uint32_t raw = r.read<uint32_t>(what);
  if (raw > static_cast<uint32_t>(GgufType::kF64)) r.corrupt(cat(what, ": unknown value type ", raw));
  return static_cast<GgufType>(raw);
}

// Fills kv (type/count/data/strings) from the value at the cursor.
void read_value(Reader& r, GgufKv& kv) {
  const std::string what = "key '" + kv.key + "'";
  GgufType type = read_type(r, what + " type");
  if (type == GgufType::kArray) {
    kv.is_array = true;
    type = read_type(r, what + " array element type");
    if (type == GgufType::kArray) {
      fail(ErrorKind::kUnsupported, r.path(), ": ", what, ": arrays of arrays are not supported");
    }
    kv.count = r.read<uint64_t>(what + " array length");
  }
  kv.type = type;
  if (type == GgufType::kString) {
    // Each string needs at least its 8-byte length: reject impossible counts up front.
    if (kv.count > r.left() / 8) {
      r.corrupt(cat(what, " claims ", kv.count, " strings but only ", r.left(), " bytes remain"));
    }
    kv.strings.reserve(static_cast<size_t>(std::min<uint64_t>(kv.count, kReserveCap)));
    for (uint64_t i = 0; i < kv.count; ++i) kv.strings.push_back(r.string(what + " value"));
    return;
  }
  const size_t elem = scalar_size(type);
  if (kv.count > r.left() / elem) {
    r.corrupt(cat(what, " claims ", kv.count, " values of ", elem, " bytes but only ", r.left(),
                  " bytes remain"));
  }
  kv.data = r.take(kv.count * elem, what + " value");
  if (type == GgufType::kBool) {
    for (uint64_t i = 0; i < kv.count; ++i) {
      if (kv.data[i] > 1) r.corrupt(cat(what, ": bool value ", int(kv.data[i]), " is not 0 or 1"));
    }
  }
}

uint64_t round_up(uint64_t v, uint64_t alignment) {
  return (v + alignment - 1) / alignment * alignment;
}

}  // namespace

const char* gguf_type_name(GgufType type) {
  switch (type) {
    case GgufType::kU8: return "u8";
    case GgufType::kI8: return "i8";
    case GgufType::kU16: return "u16";
    case GgufType::kI16: return "i16";
    case GgufType::kU32: return "u32";
    case GgufType::kI32: return "i32";
    case GgufType::kF32: return "f32";
    case GgufType::kBool: return "bool";
    case GgufType::kString: return "string";
    case GgufType::kArray: return "array";
    case GgufType::kU64: return "u64";
    case GgufType::kI64: return "i64";
    case GgufType::kF64: return "f64";
  }
  return "?";
}

std::optional<uint32_t> ggml_type_of(DType dtype) {
  for (const auto& t : kGgmlTypes) {
    if (t.dtype == dtype) return t.id;
  }
  return std::nullopt;
}

std::optional<DType> dtype_of_ggml_type(uint32_t ggml_type) {
  for (const auto& t : kGgmlTypes) {
    if (t.id == ggml_type) return t.dtype;
  }
  return std::nullopt;
}

GgufFile GgufFile::open(const std::string& path) {
  GgufFile f;
  f.path_ = path;
  f.file_ = MappedFile::open(path);
  f.index(f.file_.data(), f.file_.size());
  return f;
}

GgufFile GgufFile::parse(std::string_view bytes, const std::string& name) {
  GgufFile f;
  f.path_ = name;
  f.owned_.resize((bytes.size() + 7) / 8);
  if (!bytes.empty()) std::memcpy(f.owned_.data(), bytes.data(), bytes.size());
  f.index(reinterpret_cast<const uint8_t*>(f.owned_.data()), bytes.size());
  return f;
}

void GgufFile::index(const uint8_t* base, size_t size) {
  Reader r(base, size, path_);
  if (size < 4 || std::memcmp(base, "GGUF", 4) != 0) {
    r.corrupt("not a GGUF file (the first 4 bytes are not \"GGUF\")");
  }
  r.take(4, "magic");
  version_ = r.read<uint32_t>("the version");
  if (version_ == 1) {
    fail(ErrorKind::kUnsupported, path_, ": GGUF version 1 is not supported (only 2 and 3)");
  }
  if (version_ != 2 && version_ != 3) {
    // A byte-swapped small number is a big-endian file; anything else is not GGUF.
    const bool swapped = (version_ & 0xFFFFu) == 0 && version_ != 0;
    fail(swapped ? ErrorKind::kUnsupported : ErrorKind::kCorrupt, path_, ": GGUF version ",
         version_, swapped ? " (a big-endian file?)" : "", " is not supported (only 2 and 3)");
  }
  const uint64_t n_tensors = r.read<uint64_t>("the tensor count");
  const uint64_t n_kv = r.read<uint64_t>("the metadata count");
  // Smallest encodings: a key/value is 8 (key length) + 4 (type) + 1 bytes; a tensor
  // info is 8 (name length) + 4 (dims) + 8 (ne[0]) + 4 (type) + 8 (offset).
  if (n_kv > r.left() / 13) r.corrupt(cat("claims ", n_kv, " metadata entries in ", size, " bytes"));
  if (n_tensors > r.left() / 32) r.corrupt(cat("claims ", n_tensors, " tensors in ", size, " bytes"));

  kvs_.reserve(static_cast<size_t>(std::min<uint64_t>(n_kv, kReserveCap)));
  for (uint64_t i = 0; i < n_kv; ++i) {
    GgufKv kv;
    kv.key = std::string(r.string(cat("metadata entry ", i, " key")));
    if (kv.key.empty()) r.corrupt(cat("metadata entry ", i, " has an empty key"));
    read_value(r, kv);
    if (!kv_index_.emplace(kv.key, kvs_.size()).second) {
      r.corrupt(cat("metadata key '", kv.key, "' appears twice"));
    }
    kvs_.push_back(std::move(kv));
  }

  alignment_ = kDefaultAlignment;
  if (const GgufKv* a = find("general.alignment")) {
    if (a->is_array || a->type != GgufType::kU32) {
      r.corrupt("general.alignment must be a u32");
    }
    alignment_ = load<uint32_t>(a->data);
    if (alignment_ == 0 || (alignment_ & (alignment_ - 1)) != 0) {
      r.corrupt(cat("general.alignment = ", alignment_, " is not a power of 2"));
    }
  }

  struct Info {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    uint64_t offset;
    uint64_t nbytes;
  };
  std::vector<Info> infos;
  infos.reserve(static_cast<size_t>(std::min<uint64_t>(n_tensors, kReserveCap)));
  std::map<std::string, size_t> seen;
  for (uint64_t i = 0; i < n_tensors; ++i) {
    Info info;
    info.name = std::string(r.string(cat("tensor info ", i, " name")));
    const std::string what = "tensor '" + info.name + "'";
    if (!seen.emplace(info.name, i).second) r.corrupt(cat(what, " appears twice"));
    const uint32_t n_dims = r.read<uint32_t>(what + " dimension count");
    if (n_dims == 0 || n_dims > kMaxDims) {
      r.corrupt(cat(what, " has ", n_dims, " dimensions (1 to ", kMaxDims, " allowed)"));
    }
    int64_t ne[kMaxDims];
    uint64_t numel = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      ne[d] = r.read<int64_t>(what + " dimension");
      if (ne[d] < 0) r.corrupt(cat(what, " has a negative dimension ", ne[d]));
      const auto v = static_cast<uint64_t>(ne[d]);
      if (v != 0 && numel > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / v) {
        r.corrupt(cat(what, " has too many elements"));
      }
      numel *= v;
    }
    const uint32_t type = r.read<uint32_t>(what + " type");
    info.offset = r.read<uint64_t>(what + " offset");
    const std::optional<DType> dtype = dtype_of_ggml_type(type);
    if (!dtype) {
      const char* known = unhandled_ggml_type_name(type);
      if (known) {
        fail(ErrorKind::kUnsupported, path_, ": ", what, " has type ", known,
             ", which kantu does not handle (F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K)");
      }
      r.corrupt(cat(what, " has an unknown type ", type));
    }
    info.dtype = *dtype;
    const int64_t block = dtype_block_elems(info.dtype);
    if (ne[0] % block != 0) {
      r.corrupt(cat(what, " has rows of ", ne[0], " values, not a multiple of the ",
                    dtype_name(info.dtype), " block (", block, ")"));
    }
    // numel < 2^63 and block_bytes <= 210: (numel / block) * block_bytes cannot overflow
    // for quantized types (block >= 32); for plain types numel * 8 needs a check.
    const uint64_t blocks = numel / static_cast<uint64_t>(block);
    const uint64_t bb = dtype_block_bytes(info.dtype);
    if (blocks > std::numeric_limits<uint64_t>::max() / bb) r.corrupt(cat(what, " is too large"));
    info.nbytes = blocks * bb;
    for (uint32_t d = 0; d < n_dims; ++d) info.shape.push_back(ne[n_dims - 1 - d]);
    if (info.offset % alignment_ != 0) {
      r.corrupt(cat(what, " offset ", info.offset, " is not a multiple of the alignment ",
                    alignment_));
    }
    infos.push_back(std::move(info));
  }

  // The data section starts at the next aligned position (only when there are tensors).
  data_offset_ = r.pos();
  if (n_tensors > 0) {
    data_offset_ = round_up(r.pos(), alignment_);
    if (data_offset_ > size) {
      r.corrupt(cat("truncated: the data section would start at ", data_offset_,
                    " but the file has ", size, " bytes"));
    }
  }
  const uint64_t data_size = size - data_offset_;

  // Every tensor inside the data section, and no two overlapping.
  std::vector<const Info*> by_offset;
  for (const Info& info : infos) {
    if (info.offset > data_size || info.nbytes > data_size - info.offset) {
      r.corrupt(cat("tensor '", info.name, "' (", info.nbytes, " bytes at data offset ",
                    info.offset, ") runs past the end of the file (data section: ", data_size,
                    " bytes)"));
    }
    by_offset.push_back(&info);
  }
  std::sort(by_offset.begin(), by_offset.end(),
            [](const Info* a, const Info* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const Info& prev = *by_offset[i - 1];
    if (prev.nbytes > 0 && by_offset[i]->offset < prev.offset + prev.nbytes) {
      r.corrupt(cat("tensors '", prev.name, "' and '", by_offset[i]->name, "' overlap"));
    }
  }

  for (Info& info : infos) {
    TensorView view;
    view.name = info.name;
    view.dtype = info.dtype;
    view.shape = std::move(info.shape);
    view.data = base + data_offset_ + info.offset;
    view.nbytes = static_cast<size_t>(info.nbytes);
    order_.push_back(info.name);
    tensors_.emplace(info.name, std::move(view));
  }
}

const GgufKv* GgufFile::find(const std::string& key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kvs_[it->second];
}

const GgufKv& GgufFile::require(const std::string& key) const {
  const GgufKv* kv = find(key);
  if (!kv) fail(ErrorKind::kNotFound, path_, ": metadata key '", key, "' is missing");
  return *kv;
}

void GgufFile::wrong_type(const GgufKv& kv, const char* expected) const {
  fail(ErrorKind::kCorrupt, path_, ": metadata key '", kv.key, "' is ",
       kv.is_array ? "an array of " : "a ", gguf_type_name(kv.type), ", expected ", expected);
}

std::string GgufFile::string(const std::string& key) const {
  const GgufKv& kv = require(key);
  if (kv.is_array || kv.type != GgufType::kString) wrong_type(kv, "a string");
  return std::string(kv.strings.at(0));
}

int64_t GgufFile::integer(const std::string& key) const {
  const GgufKv& kv = require(key);
  if (kv.is_array || !is_integer_type(kv.type)) wrong_type(kv, "an integer");
  const IntValue v = int_at(kv.type, kv.data);
  if (!v.negative && v.bits > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    fail(ErrorKind::kCorrupt, path_, ": metadata key '", key, "' = ", v.bits, " is too large");
  }
  return static_cast<int64_t>(v.bits);
}

uint64_t GgufFile::unsigned_integer(const std::string& key) const {
  const GgufKv& kv = require(key);
  if (kv.is_array || !is_integer_type(kv.type)) wrong_type(kv, "an integer");
  const IntValue v = int_at(kv.type, kv.data);
  if (v.negative) {
    fail(ErrorKind::kCorrupt, path_, ": metadata key '", key, "' = ",
         static_cast<int64_t>(v.bits), " is negative");
  }
  return v.bits;
}

double GgufFile::number(const std::string& key) const {
  const GgufKv& kv = require(key);
  if (kv.is_array || !(is_integer_type(kv.type) || kv.type == GgufType::kF32 ||
                       kv.type == GgufType::kF64)) {
    wrong_type(kv, "a number");
  }
  return number_at(kv.type, kv.data);
}

bool GgufFile::boolean(const std::string& key) const {
  const GgufKv& kv = require(key);
  if (kv.is_array || kv.type != GgufType::kBool) wrong_type(kv, "a bool");
  return kv.data[0] != 0;
}

std::vector<int64_t> GgufFile::integers(const std::string& key) const {
  const GgufKv& kv = require(key);
  if (!kv.is_array || !is_integer_type(kv.type)) wrong_type(kv, "an array of integers");
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(kv.count));
  const size_t elem = scalar_size(kv.type);
  for (uint64_t i = 0; i < kv.count; ++i) {
    const IntValue v = int_at(kv.type, kv.data + i * elem);
    if (!v.negative && v.bits > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      fail(ErrorKind::kCorrupt, path_, ": metadata key '", key, "' element ", i, " is too large");
    }
    out.push_back(static_cast<int64_t>(v.bits));
  }
  return out;
}

std::vector<double> GgufFile::numbers(const std::string& key) const {
  const GgufKv& kv = require(key);
  if (!kv.is_array || !(is_integer_type(kv.type) || kv.type == GgufType::kF32 ||
                        kv.type == GgufType::kF64)) {
    wrong_type(kv, "an array of numbers");
  }
  std::vector<double> out;
  out.reserve(static_cast<size_t>(kv.count));
  const size_t elem = scalar_size(kv.type);
  for (uint64_t i = 0; i < kv.count; ++i) out.push_back(number_at(kv.type, kv.data + i * elem));
  return out;
}

std::vector<bool> GgufFile::booleans(const std::string& key) const {
  const GgufKv& kv = require(key);
  if (!kv.is_array || kv.type != GgufType::kBool) wrong_type(kv, "an array of bools");
  std::vector<bool> out;
  for (uint64_t i = 0; i < kv.count; ++i) out.push_back(kv.data[i] != 0);
  return out;
}

const std::vector<std::string_view>& GgufFile::strings(const std::string& key) const {
  const GgufKv& kv = require(key);
  if (!kv.is_array || kv.type != GgufType::kString) wrong_type(kv, "an array of strings");
  return kv.strings;
}

const TensorView& GgufFile::tensor(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) fail(ErrorKind::kNotFound, path_, ": no tensor '", name, "'");
  return it->second;
}

}  // namespace kantu
