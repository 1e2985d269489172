#include "formats/safetensors.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <set>

#include "core/error.h"
#include "core/json.h"

namespace kantu {

namespace {

// The reference implementation refuses headers over 100 MB; so do we (a corrupt length
// must not make us parse gigabytes as JSON).
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

[[noreturn]] void corrupt(const std::string& path, const std::string& what) {
  fail(ErrorKind::kCorrupt, path, ": ", what);
}

// Element count of a validated shape; throws if any product overflows `limit`.
uint64_t checked_numel(const std::vector<int64_t>& shape, uint64_t limit, bool* overflow) {
  uint64_t numel = 1;
  *overflow = false;
  for (int64_t d : shape) {
    const uint64_t v = static_cast<uint64_t>(d);
    if (v != 0 && numel > limit / v) *overflow = true;
    numel *= v;
  }
  return numel;
}

}  // namespace

SafetensorsFile SafetensorsFile::open(const std::string& path) {
  SafetensorsFile st;
  st.path_ = path;
  st.file_ = MappedFile::open(path);
  st.index(st.file_.data(), st.file_.size());
  return st;
}

SafetensorsFile SafetensorsFile::parse(std::string_view bytes, const std::string& name) {
  SafetensorsFile st;
  st.path_ = name;
  st.owned_.resize((bytes.size() + 7) / 8);
  if (!bytes.empty()) std::memcpy(st.owned_.data(), bytes.data(), bytes.size());
  st.index(reinterpret_cast<const uint8_t*>(st.owned_.data()), bytes.size());
  return st;
}

void SafetensorsFile::index(const uint8_t* base, size_t size) {
  const std::string& path = path_;
  if (size < 8) corrupt(path, cat("file is ", size, " bytes, too short for a safetensors header"));
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | base[i];
  if (header_len > size - 8) {
    corrupt(path, cat("header length ", header_len, " exceeds the file size ", size,
                      " (truncated or not a safetensors file)"));
  }
  if (header_len > kMaxHeaderBytes) {
    corrupt(path, cat("header length ", header_len, " is over the 100 MB limit"));
  }
  const std::string_view header(reinterpret_cast<const char*>(base + 8), header_len);
  Json json;
  try {
    json = Json::parse(header.begin(), header.end());
  } catch (const Json::exception& e) {
    corrupt(path, cat("header is not valid JSON: ", e.what()));
  }
  if (!json.is_object()) corrupt(path, "header is not a JSON object");

  const uint8_t* data = base + 8 + header_len;
  const uint64_t data_size = size - 8 - header_len;
  struct Range {
    uint64_t begin, end;
    std::string name;
  };
  std::vector<Range> ranges;
  for (const auto& [name, entry] : json.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) corrupt(path, "__metadata__ is not an object");
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string()) corrupt(path, cat("__metadata__.", key, " is not a string"));
        metadata_[key] = value.get<std::string>();
      }
      continue;
    }
    const std::string where = cat("tensor '", name, "'");
    if (name.empty()) corrupt(path, "a tensor has an empty name");
    if (!entry.is_object()) corrupt(path, where + " entry is not an object");
    auto dt = entry.find("dtype");
    auto sh = entry.find("shape");
    auto off = entry.find("data_offsets");
    if (dt == entry.end() || !dt->is_string()) corrupt(path, where + " has no string dtype");
    if (sh == entry.end() || !sh->is_array()) corrupt(path, where + " has no shape array");
    if (off == entry.end() || !off->is_array() || off->size() != 2) {
      corrupt(path, where + " has no [begin, end] data_offsets");
    }
    TensorView view;
    view.name = name;
    if (!parse_dtype(dt->get<std::string>(), &view.dtype)) {
      fail(ErrorKind::kUnsupported, path, ": ", where, " has unsupported dtype ",
           dt->get<std::string>());
    }
    for (const auto& d : *sh) {
      if (!d.is_number_unsigned()) corrupt(path, where + " has a non-integer or negative dimension");
      const uint64_t v = d.get<uint64_t>();
      if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        corrupt(path, where + " has a dimension that overflows");
      }
      view.shape.push_back(static_cast<int64_t>(v));
    }
    for (const auto& o : *off) {
      if (!o.is_number_unsigned()) corrupt(path, where + " has a non-integer or negative offset");
    }
    const size_t elem = dtype_size(view.dtype);
    bool overflow = false;
    // The byte count must fit in uint64 and the element count in int64 (numel() is signed).
    const uint64_t numel = checked_numel(
        view.shape, static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / elem, &overflow);
    if (overflow) corrupt(path, where + " shape overflows");
    const uint64_t begin = (*off)[0].get<uint64_t>();
    const uint64_t end = (*off)[1].get<uint64_t>();
    if (begin > end) corrupt(path, cat(where, " data_offsets [", begin, ", ", end, "] are reversed"));
    if (end > data_size) {
      corrupt(path, cat(where, " ends at byte ", end, " but the data section has ", data_size,
                        " bytes (file truncated?)"));
    }
    const uint64_t expected = numel * elem;
    if (end - begin != expected) {
      corrupt(path, cat(where, " has shape ", shape_string(view.shape), " ", dtype_name(view.dtype),
                        " = ", expected, " bytes but its data_offsets span ", end - begin));
    }
    // Kernels read elements in place, so each non-empty tensor must sit at a multiple of
    // its element size (the reference writer guarantees this).
    if (end > begin && (8 + header_len + begin) % elem != 0) {
      fail(ErrorKind::kUnsupported, path, ": ", where, " starts at file byte ", 8 + header_len + begin,
           ", not aligned to its ", elem, "-byte ", dtype_name(view.dtype), " elements");
    }
    view.data = data + begin;
    view.nbytes = static_cast<size_t>(end - begin);
    ranges.push_back({begin, end, name});
    tensors_.emplace(name, std::move(view));
  }
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  // Sorted by start, a range overlaps an earlier one iff it starts before the furthest
  // end seen so far. Empty tensors occupy no bytes and cannot overlap anything.
  uint64_t furthest_end = 0;
  const std::string* furthest = nullptr;
  for (const Range& r : ranges) {
    if (r.begin == r.end) continue;
    if (furthest && r.begin < furthest_end) {
      corrupt(path, cat("tensors '", *furthest, "' and '", r.name, "' overlap in the data section"));
    }
    if (r.end > furthest_end) {
      furthest_end = r.end;
      furthest = &r.name;
    }
  }
}

const TensorView& SafetensorsFile::get(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) fail(ErrorKind::kNotFound, path(), ": no tensor '", name, "'");
  return it->second;
}

void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::set<std::string> names;
  std::vector<uint64_t> bytes(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& t = tensors[i];
    if (t.name.empty() || t.name == "__metadata__" || !names.insert(t.name).second) {
      fail(ErrorKind::kInvalidArgument, "cannot write ", path, ": tensor name '", t.name,
           "' is empty, reserved or repeated");
    }
    uint64_t numel = 1;
    for (int64_t d : t.shape) {
      if (d < 0) {
        fail(ErrorKind::kInvalidArgument, "cannot write ", path, ": tensor '", t.name,
             "' has a negative dimension");
      }
      numel *= static_cast<uint64_t>(d);
    }
    bytes[i] = numel * dtype_size(t.dtype);
    if (bytes[i] != 0 && t.data == nullptr) {
      fail(ErrorKind::kInvalidArgument, "cannot write ", path, ": tensor '", t.name, "' has no data");
    }
  }
  // Largest elements first: every offset stays a multiple of each tensor's element size.
  std::vector<size_t> order(tensors.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return dtype_size(tensors[a].dtype) > dtype_size(tensors[b].dtype);
  });
  Json header = Json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (size_t i : order) {
    const auto& t = tensors[i];
    header[t.name] = {{"dtype", dtype_name(t.dtype)}, {"shape", t.shape},
                      {"data_offsets", {offset, offset + bytes[i]}}};
    offset += bytes[i];
  }
  std::string text = header.dump();
  while ((text.size() + 8) % 8 != 0) text.push_back(' ');  // keep the data 8-byte aligned
  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) fail(ErrorKind::kInvalidArgument, "cannot write ", tmp, ": ", std::strerror(errno));
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(text.size() >> (8 * i));
  bool ok = std::fwrite(len, 1, 8, f) == 8 && std::fwrite(text.data(), 1, text.size(), f) == text.size();
  for (size_t i : order) {
    const size_t n = static_cast<size_t>(bytes[i]);
    ok = ok && (n == 0 || std::fwrite(tensors[i].data, 1, n, f) == n);
  }
  const int write_errno = errno;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = ok ? errno : write_errno;
    std::remove(tmp.c_str());
    fail(ErrorKind::kInvalidArgument, "cannot write ", path, ": ", std::strerror(err));
  }
}

}  // namespace kantu
