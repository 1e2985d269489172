#include "models/weight_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <system_error>

#include "core/error.h"
#include "core/json.h"
#include "kernels/quant.h"

namespace kantu::models {
namespace fs = std::filesystem;

namespace {

// Bump when the file layout or the quantizers' output changes: old caches then miss.
constexpr const char* kFormat = "kantu-weight-cache-1";
constexpr uint64_t kAlign = 64;

uint64_t fnv1a(const std::string& text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  return h;
}

// The weight files whose identity keys the cache: the file itself, or every .safetensors /
// .gguf file of the folder (sorted, so the key does not depend on directory order).
std::vector<fs::path> source_files(const std::string& model_path) {
  std::vector<fs::path> files;
  std::error_code ec;
  if (fs::is_regular_file(model_path, ec)) {
    files.push_back(fs::absolute(model_path));
    return files;
  }
  for (const auto& entry : fs::directory_iterator(model_path, ec)) {
    const std::string ext = entry.path().extension().string();
    if (entry.is_regular_file(ec) && (ext == ".safetensors" || ext == ".gguf"))
      files.push_back(fs::absolute(entry.path()));
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string cache_key(const std::vector<MatrixConversion>& list, const CacheRequest& request) {
  std::ostringstream key;
  key << kFormat << "\n";
  std::vector<fs::path> files;
  for (const std::string& f : request.source_files) files.push_back(fs::absolute(f));
  if (files.empty()) files = source_files(request.model_path);
  for (const fs::path& file : files) {
    std::error_code ec;
    const auto size = fs::file_size(file, ec);
    const auto mtime = fs::last_write_time(file, ec).time_since_epoch().count();
    key << "source " << file.string() << " " << size << " " << mtime << "\n";
  }
  for (const MatrixConversion& c : list) {
    key << "matrix " << c.name << " " << dtype_name(c.matrix->dtype) << " " << c.matrix->rows
        << "x" << c.matrix->cols << " -> " << dtype_name(c.target) << "\n";
  }
  return key.str();
}

bool writable_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  return fs::is_directory(dir, ec) && ::access(dir.c_str(), W_OK) == 0;
}

struct Layout {
  std::string header;              // JSON, padded so the data starts kAlign-aligned
  std::vector<uint64_t> offsets;   // per matrix, in the data section
  std::vector<uint64_t> sizes;
};

Layout plan_layout(const std::vector<MatrixConversion>& list, const std::string& key) {
  Layout layout;
  Json header = Json::object();
  Json meta = Json::object();
  meta["format"] = kFormat;
  meta["cache_key"] = key;
  uint64_t at = 0;
  for (const MatrixConversion& c : list) {
    const uint64_t bytes = dtype_bytes(c.target, c.matrix->rows * c.matrix->cols);
    at = (at + kAlign - 1) / kAlign * kAlign;
    layout.offsets.push_back(at);
    layout.sizes.push_back(bytes);
    header[c.name] = {{"dtype", "U8"},
                      {"shape", Json::array({bytes})},
                      {"data_offsets", Json::array({at, at + bytes})}};
    meta["dtype." + c.name] = dtype_name(c.target);
    meta["shape." + c.name] =
        std::to_string(c.matrix->rows) + "x" + std::to_string(c.matrix->cols);
    at += bytes;
  }
  header["__metadata__"] = meta;
  layout.header = header.dump();
  while ((8 + layout.header.size()) % kAlign != 0) layout.header.push_back(' ');
  return layout;
}

// Why `file` cannot serve `list` under `key`, or "" when it can.
std::string mismatch(const SafetensorsFile& file, const std::vector<MatrixConversion>& list,
                     const std::string& key) {
  const auto& meta = file.metadata();
  auto value = [&](const std::string& k) {
    auto it = meta.find(k);
    return it == meta.end() ? std::string() : it->second;
  };
  if (value("format") != kFormat) return "another format version";
  if (value("cache_key") != key) return "made from other weight files or options";
  for (const MatrixConversion& c : list) {
    if (!file.has(c.name)) return "no tensor " + c.name;
    const TensorView& t = file.get(c.name);
    const std::string shape = std::to_string(c.matrix->rows) + "x" + std::to_string(c.matrix->cols);
    if (value("dtype." + c.name) != dtype_name(c.target) || value("shape." + c.name) != shape ||
        t.nbytes != dtype_bytes(c.target, c.matrix->rows * c.matrix->cols))
      return "tensor " + c.name + " has another type or size";
  }
  return "";
}

void rebind(std::vector<MatrixConversion>& list, const std::vector<const void*>& data) {
  for (size_t i = 0; i < list.size(); ++i) {
    list[i].matrix->dtype = list[i].target;
    list[i].matrix->data = data[i];
  }
}

void convert_into(const MatrixConversion& c, void* dst, ThreadPool* pool) {
  kernels::quantize_matrix(*c.matrix, c.target, dst, pool);
}

// Streams the converted matrices into path (through a temporary file and a rename).
void write_cache(const std::string& path, const std::vector<MatrixConversion>& list,
                 const Layout& layout, ThreadPool* pool) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) fail(ErrorKind::kInvalidArgument, "cannot create ", tmp);
  bool ok = true;
  auto put = [&](const void* p, size_t n) { ok = ok && std::fwrite(p, 1, n, f) == n; };
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(layout.header.size() >> (8 * i));
  put(len, 8);
  put(layout.header.data(), layout.header.size());
  std::vector<uint8_t> buffer;
  uint64_t written = 0;
  const std::vector<uint8_t> zeros(kAlign, 0);
  for (size_t i = 0; i < list.size() && ok; ++i) {
    put(zeros.data(), layout.offsets[i] - written);
    buffer.resize(layout.sizes[i]);
    convert_into(list[i], buffer.data(), pool);
    put(buffer.data(), buffer.size());
    written = layout.offsets[i] + layout.sizes[i];
  }
  ok = ok && std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    fail(ErrorKind::kInvalidArgument, "cannot write the weight cache ", path);
  }
}

}  // namespace

std::string default_cache_dir(const std::string& model_path) {
  std::error_code ec;
  const fs::path model = fs::absolute(model_path, ec);
  const fs::path folder = fs::is_directory(model, ec) ? model : model.parent_path();
  const fs::path beside = folder / ".kantu";
  // A snapshot of the Hugging Face cache (models--ORG--NAME/snapshots/<commit>) is shared
  // with other tools and holds only links to blobs: converted weights go to the user cache.
  const bool hub_snapshot = folder.parent_path().filename() == "snapshots" &&
                            folder.parent_path().parent_path().filename().string().rfind("models--", 0) == 0;
  if (!hub_snapshot && writable_dir(beside)) return beside.string();
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0')
    return (fs::path(xdg) / "kantu").string();
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0')
    return (fs::path(home) / ".cache" / "kantu").string();
  return (fs::temp_directory_path(ec) / "kantu-cache").string();
}

std::string cache_file_path(const std::vector<MatrixConversion>& list, const CacheRequest& request) {
  const std::string dir =
      request.cache_dir.empty() ? default_cache_dir(request.model_path) : request.cache_dir;
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx",
                static_cast<unsigned long long>(fnv1a(cache_key(list, request))));
  return (fs::path(dir) / ("weights-" + request.tag + "-" + hash + ".safetensors")).string();
}

std::unique_ptr<ConvertedWeights> convert_weights(std::vector<MatrixConversion>& list,
                                                  const CacheRequest& request, ThreadPool* pool) {
  for (const MatrixConversion& c : list) {
    KANTU_CHECK(kernels::can_quantize_to(c.target), "convert_weights: cannot produce ",
                dtype_name(c.target));
  }
  auto out = std::unique_ptr<ConvertedWeights>(new ConvertedWeights());
  const std::string key = cache_key(list, request);
  const std::string path = cache_file_path(list, request);
  out->cache_path_ = path;
  std::vector<const void*> data(list.size());

  std::error_code ec;
  if (fs::exists(path, ec)) {
    std::string why;
    try {
      SafetensorsFile file = SafetensorsFile::open(path);
      why = mismatch(file, list, key);
      if (why.empty()) {
        for (size_t i = 0; i < list.size(); ++i) data[i] = file.get(list[i].name).data;
        out->file_ = std::move(file);
        out->from_cache_ = true;
        rebind(list, data);
        return out;
      }
    } catch (const Error& e) {
      why = e.what();  // truncated or corrupt: rebuild
    }
    std::fprintf(stderr, "kantu: weight cache %s is not usable (%s); rebuilding it\n",
                 path.c_str(), why.c_str());
  }

  std::fprintf(stderr, "kantu: converting %zu weight matrices (%s), cache %s\n", list.size(),
               request.tag.c_str(), path.c_str());
  try {
    fs::create_directories(fs::path(path).parent_path(), ec);
    write_cache(path, list, plan_layout(list, key), pool);
    SafetensorsFile file = SafetensorsFile::open(path);
    const std::string why = mismatch(file, list, key);
    if (!why.empty()) fail(ErrorKind::kCorrupt, path, ": just written but ", why);
    for (size_t i = 0; i < list.size(); ++i) data[i] = file.get(list[i].name).data;
    out->file_ = std::move(file);
  } catch (const Error& e) {
    // No usable cache (read-only disk, full disk): convert in memory for this run.
    std::fprintf(stderr, "kantu: %s; converting in memory instead\n", e.what());
    out->cache_path_.clear();
    out->owned_.resize(list.size());
    for (size_t i = 0; i < list.size(); ++i) {
      out->owned_[i].resize(dtype_bytes(list[i].target, list[i].matrix->rows * list[i].matrix->cols));
      convert_into(list[i], out->owned_[i].data(), pool);
      data[i] = out->owned_[i].data();
    }
  }
  rebind(list, data);
  return out;
}

}  // namespace kantu::models
