#include "formats/safetensors.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>

#include "core/error.h"
#include "core/json.h"

namespace kantu {

namespace {

[[noreturn]] void corrupt(const std::string& path, const std::string& what) {
  fail(ErrorKind::kCorrupt, path, ": ", what);
}

}  // namespace

SafetensorsFile SafetensorsFile::open(const std::string& path) {
  SafetensorsFile st;
  st.file_ = MappedFile::open(path);
  const uint8_t* base = st.file_.data();
  const size_t size = st.file_.size();
  if (size < 8) corrupt(path, cat("file is ", size, " bytes, too short for a safetensors header"));
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | base[i];
  if (header_len > size - 8) {
    corrupt(path, cat("header length ", header_len, " exceeds the file size ", size,
                      " (truncated or not a safetensors file)"));
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
        st.metadata_[key] = value.get<std::string>();
      }
      continue;
    }
    const std::string where = cat("tensor '", name, "'");
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
    uint64_t numel = 1;
    for (const auto& d : *sh) {
      if (!d.is_number_unsigned()) corrupt(path, where + " has a non-integer or negative dimension");
      uint64_t v = d.get<uint64_t>();
      if (v != 0 && numel > std::numeric_limits<uint64_t>::max() / 4 / v) {
        corrupt(path, where + " shape overflows");
      }
      numel *= v;
      view.shape.push_back(static_cast<int64_t>(v));
    }
    for (const auto& o : *off) {
      if (!o.is_number_unsigned()) corrupt(path, where + " has a non-integer or negative offset");
    }
    const uint64_t begin = (*off)[0].get<uint64_t>();
    const uint64_t end = (*off)[1].get<uint64_t>();
    if (begin > end) corrupt(path, cat(where, " data_offsets [", begin, ", ", end, "] are reversed"));
    if (end > data_size) {
      corrupt(path, cat(where, " ends at byte ", end, " but the data section has ", data_size,
                        " bytes (file truncated?)"));
    }
    const uint64_t expected = numel * dtype_size(view.dtype);
    if (end - begin != expected) {
      corrupt(path, cat(where, " has shape ", shape_string(view.shape), " ", dtype_name(view.dtype),
                        " = ", expected, " bytes but its data_offsets span ", end - begin));
    }
    view.data = data + begin;
    view.nbytes = static_cast<size_t>(end - begin);
    ranges.push_back({begin, end, name});
    st.tensors_.emplace(name, std::move(view));
  }
  std::sort(ranges.begin(), ranges.end(),
            [](const Range& a, const Range& b) { return a.begin < b.begin; });
  for (size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i].begin < ranges[i - 1].end) {
      corrupt(path, cat("tensors '", ranges[i - 1].name, "' and '", ranges[i].name,
                        "' overlap in the data section"));
    }
  }
  return st;
}

const TensorView& SafetensorsFile::get(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) fail(ErrorKind::kNotFound, path(), ": no tensor '", name, "'");
  return it->second;
}

void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  Json header = Json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    uint64_t numel = 1;
    for (int64_t d : t.shape) numel *= static_cast<uint64_t>(d);
    const uint64_t bytes = numel * dtype_size(t.dtype);
    header[t.name] = {{"dtype", dtype_name(t.dtype)}, {"shape", t.shape},
                      {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  while ((text.size() + 8) % 8 != 0) text.push_back(' ');  // keep the data 8-byte aligned
  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) fail(ErrorKind::kInvalidArgument, "cannot write ", tmp, ": ", std::strerror(errno));
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(text.size() >> (8 * i));
  bool ok = std::fwrite(len, 1, 8, f) == 8 && std::fwrite(text.data(), 1, text.size(), f) == text.size();
  for (const auto& t : tensors) {
    uint64_t numel = 1;
    for (int64_t d : t.shape) numel *= static_cast<uint64_t>(d);
    const size_t bytes = static_cast<size_t>(numel * dtype_size(t.dtype));
    ok = ok && (bytes == 0 || std::fwrite(t.data, 1, bytes, f) == bytes);
  }
  ok = (std::fclose(f) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    fail(ErrorKind::kInvalidArgument, "cannot write ", path, ": ", std::strerror(errno));
  }
}

}  // namespace kantu
