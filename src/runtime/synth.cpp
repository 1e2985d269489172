// Streams random BF16 weights straight to disk: the header is computed up front,
// then threads fill fixed-size chunks and pwrite them at their offsets, so memory
// stays at a few MB per thread whatever the model size. Each chunk's values depend
// only on (seed, tensor name, chunk index): the output is the same for any thread count.
#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "core/error.h"
#include "core/half.h"
#include "core/thread_pool.h"
#include "core/timer.h"
#include "runtime/new_folder.h"
#include "runtime/synth.h"

namespace kantu::runtime {

namespace fs = std::filesystem;

namespace {

constexpr int64_t kChunkElements = kSynthChunkElements;
constexpr double kWeightStd = 0.02;

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

// Approximately normal values: the sum of four 16-bit uniforms (Irwin-Hall, n = 4)
// rescaled to mean 0 and the requested std. Cheap (one 64-bit draw per value) and
// bounded (|x| <= 3.46 std), which keeps the random forward pass tame.
void fill_normal_bf16(uint16_t* out, int64_t n, double std_dev, uint64_t seed) {
  uint64_t state = seed;
  const float scale = static_cast<float>(std_dev * std::sqrt(3.0) / 65536.0);
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t r = splitmix64(state);
    const int64_t sum = static_cast<int64_t>(r & 0xffff) + ((r >> 16) & 0xffff) +
                        ((r >> 32) & 0xffff) + (r >> 48) - 2 * 65535;
    out[i] = f32_to_bf16(static_cast<float>(sum) * scale);
  }
}

struct ShardPlan {
  std::string file;
  std::vector<size_t> tensors;    // indexes into the tensor list
  std::vector<int64_t> offsets;   // data offset of each (relative to the data section)
  int64_t data_bytes = 0;
  std::string header;             // padded JSON header
};

std::string make_header(const std::vector<SynthTensor>& tensors, const ShardPlan& shard) {
  Json header = Json::object();
  header["__metadata__"] = {{"format", "pt"}};
  for (size_t k = 0; k < shard.tensors.size(); ++k) {
    const SynthTensor& t = tensors[shard.tensors[k]];
    const int64_t begin = shard.offsets[k];
    header[t.name] = {{"dtype", "BF16"}, {"shape", t.shape},
                      {"data_offsets", {begin, begin + t.numel() * 2}}};
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // data section 8-byte aligned
  return text;
}

void write_all(int fd, const void* data, size_t size, off_t offset, const std::string& path) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::pwrite(fd, p, size, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail(ErrorKind::kInternal, path, ": write failed: ", std::strerror(errno));
    p += n;
    size -= static_cast<size_t>(n);
    offset += n;
  }
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out.flush()) fail(ErrorKind::kInternal, path.string(), ": write failed");
}

// Copies the tokenizer and chat template files; a folder without a tokenizer or a
// chat template is an error.
void copy_tokenizer_files(const fs::path& from, const fs::path& to) {
  if (!fs::is_directory(from))
    fail(ErrorKind::kNotFound, "tokenizer folder ", from.string(), " does not exist");
  const bool has_bpe = fs::exists(from / "vocab.json") && fs::exists(from / "merges.txt");
  if (!has_bpe && !fs::exists(from / "tokenizer.json") && !fs::exists(from / "tokenizer.model"))
    fail(ErrorKind::kNotFound, "tokenizer folder ", from.string(),
         " has neither vocab.json + merges.txt, tokenizer.json nor tokenizer.model");
  if (!fs::exists(from / "tokenizer_config.json"))
    fail(ErrorKind::kNotFound, "tokenizer folder ", from.string(), " has no tokenizer_config.json");
  bool has_template = fs::exists(from / "chat_template.json") ||
                      fs::exists(from / "chat_template.jinja");
  if (!has_template) {
    const Json tc = read_json_file((from / "tokenizer_config.json").string());
    has_template = tc.is_object() && tc.contains("chat_template");
  }
  if (!has_template)
    fail(ErrorKind::kNotFound, "tokenizer folder ", from.string(), " has no chat template");
  for (const char* name : {"vocab.json", "merges.txt", "tokenizer.json", "tokenizer.model",
                           "tokenizer_config.json", "added_tokens.json", "chat_template.json",
                           "chat_template.jinja", "video_preprocessor_config.json",
                           "special_tokens_map.json", "processor_config.json"}) {
    if (!fs::exists(from / name)) continue;
    fs::copy_file(from / name, to / name);
    // a read-only source (a shared model folder) must not make the copy read-only
    fs::permissions(to / name, fs::perms::owner_read | fs::perms::owner_write |
                                   fs::perms::group_read | fs::perms::others_read);
  }
}

void write_shard(const fs::path& dir, const ShardPlan& shard,
                 const std::vector<SynthTensor>& tensors, uint64_t seed, ThreadPool& pool) {
  const std::string path = (dir / shard.file).string();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) fail(ErrorKind::kInternal, path, ": cannot create: ", std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  const uint64_t header_len = shard.header.size();
  uint8_t len_bytes[8];
  for (int i = 0; i < 8; ++i) len_bytes[i] = static_cast<uint8_t>(header_len >> (8 * i));
  write_all(fd, len_bytes, 8, 0, path);
  write_all(fd, shard.header.data(), shard.header.size(), 8, path);
  const off_t data_start = static_cast<off_t>(8 + header_len);

  struct Task {
    size_t tensor;   // index into tensors
    int64_t chunk;   // chunk index within the tensor
    off_t offset;    // absolute file offset
  };
  std::vector<Task> tasks;
  for (size_t k = 0; k < shard.tensors.size(); ++k) {
    const int64_t n = tensors[shard.tensors[k]].numel();
    for (int64_t c = 0; c * kChunkElements < n; ++c)
      tasks.push_back({shard.tensors[k], c,
                       data_start + static_cast<off_t>(shard.offsets[k] + c * kChunkElements * 2)});
  }
  std::mutex error_mutex;
  std::string error;
  std::atomic<bool> failed{false};
  pool.parallel_for(static_cast<int64_t>(tasks.size()), [&](int64_t i) {
    if (failed.load(std::memory_order_relaxed)) return;
    thread_local std::vector<uint16_t> buffer;
    const Task& task = tasks[i];
    const SynthTensor& t = tensors[task.tensor];
    const int64_t begin = task.chunk * kChunkElements;
    const int64_t n = std::min(kChunkElements, t.numel() - begin);
    buffer.resize(n);
    synth_fill_chunk_bf16(t, seed, task.chunk, buffer.data(), n);
    try {
      write_all(fd, buffer.data(), static_cast<size_t>(n) * 2, task.offset, path);
    } catch (const Error& e) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!failed.exchange(true)) error = e.what();
    }
  });
  if (failed) fail(ErrorKind::kInternal, error);
}

}  // namespace

void synth_fill_chunk_bf16(const SynthTensor& t, uint64_t seed, int64_t chunk, uint16_t* out,
                           int64_t n) {
  switch (t.fill) {
    case SynthTensor::Fill::kOnes: std::fill(out, out + n, f32_to_bf16(1.0f)); break;
    case SynthTensor::Fill::kZeros: std::fill(out, out + n, uint16_t{0}); break;
    case SynthTensor::Fill::kNormal: {
      uint64_t s = seed ^ fnv1a(t.name);
      s ^= splitmix64(s) + static_cast<uint64_t>(chunk);
      fill_normal_bf16(out, n, kWeightStd, splitmix64(s));
      break;
    }
  }
}

Json synth_config(const std::string& like) { return models::known_config(like); }

std::vector<std::string> synth_shapes() {
  std::vector<std::string> names;
  for (const models::KnownConfig& k : models::known_configs()) names.push_back(k.name);
  return names;
}

std::vector<SynthTensor> synth_tensors(const Json& config) { return models::checkpoint_tensors(config); }

SynthReport synthesize_checkpoint(const Json& config, const std::string& tokenizer_dir,
                                  const std::string& out_dir, const SynthOptions& options) {
  Timer timer;
  const std::vector<SynthTensor> tensors = synth_tensors(config);
  const fs::path out = check_new_folder(out_dir);
  if (options.max_shard_bytes <= 0)
    fail(ErrorKind::kInvalidArgument, "max shard size must be positive");

  // Plan the shards like save_pretrained: start a new file when the next tensor would
  // push the current one past the limit.
  std::vector<ShardPlan> shards(1);
  SynthReport report;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const int64_t bytes = tensors[i].numel() * 2;
    if (shards.back().data_bytes > 0 && shards.back().data_bytes + bytes > options.max_shard_bytes)
      shards.emplace_back();
    ShardPlan& s = shards.back();
    s.tensors.push_back(i);
    s.offsets.push_back(s.data_bytes);
    s.data_bytes += bytes;
    report.parameters += tensors[i].numel();
    report.bytes += bytes;
  }
  report.tensors = static_cast<int64_t>(tensors.size());
  report.shards = static_cast<int>(shards.size());
  Json weight_map = Json::object();
  for (size_t k = 0; k < shards.size(); ++k) {
    char name[64];
    if (shards.size() == 1)
      std::snprintf(name, sizeof name, "model.safetensors");
    else
      std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", k + 1, shards.size());
    shards[k].file = name;
    shards[k].header = make_header(tensors, shards[k]);
    for (size_t i : shards[k].tensors) weight_map[tensors[i].name] = shards[k].file;
  }

  struct statvfs disk;
  if (::statvfs(out.parent_path().c_str(), &disk) == 0) {
    const double free_bytes = static_cast<double>(disk.f_bavail) * disk.f_frsize;
    if (free_bytes < static_cast<double>(report.bytes) * 1.02 + 64e6)
      fail(ErrorKind::kTooLarge, "not enough disk space in ", out.parent_path().string(), ": need ",
           report.bytes / 1e9, " GB, have ", free_bytes / 1e9, " GB");
  }

  write_folder_atomically(out, [&](const fs::path& tmp) {
    copy_tokenizer_files(tokenizer_dir, tmp);
    write_text(tmp / "config.json", config.dump(2) + "\n");
    write_text(tmp / "generation_config.json",
               models::checkpoint_generation_config(config).dump(2) + "\n");
    write_text(tmp / "preprocessor_config.json",
               models::checkpoint_preprocessor_config(config).dump(2) + "\n");
    ThreadPool pool(options.threads);
    for (const ShardPlan& shard : shards) write_shard(tmp, shard, tensors, options.seed, pool);
    if (shards.size() > 1) {
      Json index = {{"metadata", {{"total_size", report.bytes}}}, {"weight_map", weight_map}};
      write_text(tmp / "model.safetensors.index.json", index.dump(2) + "\n");
    }
  });
  report.seconds = timer.ms() / 1000.0;
  return report;
}

}  // namespace kantu::runtime
