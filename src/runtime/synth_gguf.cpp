// The random-weight GGUF pair: every HF tensor of synth_tensors() goes to its GGUF
// name and file (a Qwen2/2.5-VL fused qkv to three, by rows; a Llama q/k row by row into
// llama.cpp's RoPE order; LLaVA's unused CLIP blocks and post_layernorm left out); values come from the same per-chunk generator as the safetensors
// folder, converted to the tensor's storage type while streaming (threads fill chunks
// and pwrite them), so memory stays at a few MB per thread.
#include <atomic>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "core/error.h"
#include "core/half.h"
#include "core/thread_pool.h"
#include "core/timer.h"
#include "formats/gguf_metadata.h"
#include "formats/gguf_names.h"
#include "formats/model_family.h"
#include "formats/gguf_rope_rows.h"
#include "formats/gguf_writer.h"
#include "formats/llava_config.h"
#include "runtime/gguf_llava_metadata.h"
#include "runtime/new_folder.h"
#include "runtime/synth.h"

namespace kantu::runtime {

namespace fs = std::filesystem;

namespace {

struct Planned {
  size_t hf;            // index into the HF tensor list
  GgufPairFile file;
  size_t index;         // tensor index in that file's writer
  DType dtype;
  int temporal = -1;    // >= 0: this temporal slice of the Conv3d patch kernel
  int64_t first = 0;    // elements of the HF tensor before this GGUF tensor (a qkv part)
  int64_t numel = 0;    // elements of this GGUF tensor
  int64_t rope_head_dim = 0;  // > 0: a Llama q/k projection, rows in llama.cpp's RoPE order
  int64_t cols = 1;           // its row length
};

// Converts BF16 values to the storage type, appending to `out`.
void convert(const uint16_t* in, int64_t n, DType dtype, std::vector<char>& out) {
  const size_t elem = dtype_size(dtype);
  const size_t start = out.size();
  out.resize(start + static_cast<size_t>(n) * elem);
  char* dst = out.data() + start;
  switch (dtype) {
    case DType::kBF16: std::memcpy(dst, in, static_cast<size_t>(n) * 2); break;
    case DType::kF32:
      for (int64_t i = 0; i < n; ++i) {
        const float f = bf16_to_f32(in[i]);
        std::memcpy(dst + i * 4, &f, 4);
      }
      break;
    case DType::kF16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = f32_to_f16(bf16_to_f32(in[i]));
        std::memcpy(dst + i * 2, &h, 2);
      }
      break;
    default: KANTU_CHECK(false, "unexpected synth storage type ", dtype_name(dtype));
  }
}

// The whole HF tensor's BF16 values (only used for the small patch kernel).
std::vector<uint16_t> all_values(const SynthTensor& t, uint64_t seed) {
  std::vector<uint16_t> v(static_cast<size_t>(t.numel()));
  for (int64_t c = 0; c * kSynthChunkElements < t.numel(); ++c)
    synth_fill_chunk_bf16(t, seed, c, v.data() + c * kSynthChunkElements,
                          std::min(kSynthChunkElements, t.numel() - c * kSynthChunkElements));
  return v;
}

}  // namespace

SynthReport synthesize_gguf_pair(const Json& config, const std::string& tokenizer_dir,
                                 const std::string& out_dir, const SynthOptions& options) {
  Timer timer;
  const DType weights = options.gguf_weights;
  if (weights != DType::kBF16 && weights != DType::kF16)
    fail(ErrorKind::kInvalidArgument, "synth --format gguf writes bf16 or f16 weights, not ",
         dtype_name(weights), " (quantize the result with llama-quantize)");
  const std::vector<SynthTensor> tensors = synth_tensors(config);
  const ModelFamily family = model_family_from_config(config, "config.json");
  const bool llava = family == ModelFamily::kLlava || family == ModelFamily::kLlavaNext;
  const std::optional<llava::Config> lc =
      llava ? std::optional(llava::parse_config(config, "config.json")) : std::nullopt;
  const Json& vision = config["vision_config"];
  std::vector<int64_t> deepstack;
  if (vision.contains("deepstack_visual_indexes"))
    for (const Json& i : vision["deepstack_visual_indexes"]) deepstack.push_back(i.get<int64_t>());
  if (vision.value("temporal_patch_size", 2) != 2)
    fail(ErrorKind::kUnsupported, "llama.cpp's layout needs temporal_patch_size 2");

  const fs::path out = check_new_folder(out_dir);
  SynthReport report;
  write_folder_atomically(out, [&](const fs::path& tmp) {
    GgufWriter text((tmp / "model.gguf").string());
    GgufWriter mmproj((tmp / "mmproj.gguf").string());
    const Json preprocessor = models::checkpoint_preprocessor_config(config);
    if (lc) {
      add_llava_text_metadata(text, *lc, weights);
      add_llama_tokenizer_metadata(text, lc->text.vocab_size, tokenizer_dir);
      add_llava_mmproj_metadata(mmproj, config, *lc, preprocessor, weights);
    } else {
      add_text_metadata(text, family, config, weights);
      add_tokenizer_metadata(text, config, tokenizer_dir);
      add_mmproj_metadata(mmproj, family, config, preprocessor, weights);
    }

    // Readers look tensors up by name, so the file order (the HF list's, sorted by name)
    // need not be the converter's.
    std::vector<Planned> plan;
    for (size_t i = 0; i < tensors.size(); ++i) {
      const SynthTensor& t = tensors[i];
      if (lc && !llava_gguf_keeps(t.name, *lc)) continue;
      report.parameters += t.numel();
      if (const auto split = gguf_qkv_split_names(t.name, family)) {  // [3D, ...] in row thirds
        const int64_t part = t.numel() / 3;
        std::vector<int64_t> shape = t.shape;
        shape[0] /= 3;
        for (int k = 0; k < 3; ++k) {
          const DType d = gguf_storage_dtype((*split)[k], static_cast<int>(shape.size()), weights);
          plan.push_back({i, GgufPairFile::kMmproj, mmproj.add_tensor((*split)[k], d, shape), d, -1,
                          k * part, part});
        }
        continue;
      }
      const std::optional<std::string> name = gguf_name_of(t.name, family, deepstack);
      if (!name) fail(ErrorKind::kInternal, "no GGUF name for ", t.name);
      const GgufPairFile file = gguf_file_of(*name);
      GgufWriter& w = file == GgufPairFile::kText ? text : mmproj;
      if (*name == "v.patch_embd.weight" && !llava) {
        // [D, C, T, P, P] -> two [D, C, P, P] kernels
        const std::vector<int64_t> shape = {t.shape[0], t.shape[1], t.shape[3], t.shape[4]};
        for (int frame = 0; frame < 2; ++frame) {
          const std::string n = frame == 0 ? *name : *name + ".1";
          const DType d = gguf_storage_dtype(n, 4, weights);
          plan.push_back({i, file, w.add_tensor(n, d, shape), d, frame, 0, t.numel() / 2});
        }
        continue;
      }
      const DType d = gguf_storage_dtype(*name, static_cast<int>(t.shape.size()), weights);
      plan.push_back({i, file, w.add_tensor(*name, d, t.shape), d, -1, 0, t.numel()});
      const bool qk = name->find(".attn_q.") != std::string::npos || name->find(".attn_k.") != std::string::npos;
      if (lc && file == GgufPairFile::kText && qk) {
        plan.back().rope_head_dim = lc->text.head_dim;
        plan.back().cols = t.shape.size() == 2 ? t.shape[1] : 1;
      }
    }
    text.begin_data();
    mmproj.begin_data();

    struct Task {
      size_t planned;
      int64_t chunk;  // -1: the whole (patch kernel slice)
    };
    std::vector<Task> tasks;
    for (size_t p = 0; p < plan.size(); ++p) {
      if (plan[p].temporal >= 0) {
        tasks.push_back({p, -1});
        continue;
      }
      // Chunks of the HF tensor that overlap this GGUF tensor's elements.
      const int64_t first = plan[p].first, last = plan[p].first + plan[p].numel;
      for (int64_t c = first / kSynthChunkElements; c * kSynthChunkElements < last; ++c) {
        tasks.push_back({p, c});
      }
    }
    std::mutex error_mutex;
    std::string error;
    std::atomic<bool> failed{false};
    ThreadPool pool(options.threads);
    pool.parallel_for(static_cast<int64_t>(tasks.size()), [&](int64_t k) {
      if (failed.load(std::memory_order_relaxed)) return;
      try {
        thread_local std::vector<uint16_t> values;
        thread_local std::vector<char> bytes;
        const Planned& p = plan[tasks[k].planned];
        const SynthTensor& t = tensors[p.hf];
        GgufWriter& w = p.file == GgufPairFile::kText ? text : mmproj;
        bytes.clear();
        if (p.temporal >= 0) {
          const std::vector<uint16_t> all = all_values(t, options.seed);
          const int64_t d = t.shape[0], c = t.shape[1], frames = t.shape[2];
          const int64_t plane = t.shape[3] * t.shape[4];
          for (int64_t row = 0; row < d * c; ++row)  // (d, c) rows, then this frame's plane
            convert(all.data() + (row * frames + p.temporal) * plane, plane, p.dtype, bytes);
          w.write_tensor_data(p.index, 0, bytes.data(), bytes.size());
          return;
        }
        const int64_t begin = tasks[k].chunk * kSynthChunkElements;
        const int64_t n = std::min(kSynthChunkElements, t.numel() - begin);
        values.resize(static_cast<size_t>(n));
        synth_fill_chunk_bf16(t, options.seed, tasks[k].chunk, values.data(), n);
        // The part of the chunk inside this GGUF tensor.
        const int64_t lo = std::max(begin, p.first), hi = std::min(begin + n, p.first + p.numel);
        if (p.rope_head_dim > 0) {  // row by row, each to its llama.cpp row
          for (int64_t at = lo; at < hi;) {
            const int64_t row = at / p.cols, end = std::min(hi, (row + 1) * p.cols);
            bytes.clear();
            convert(values.data() + (at - begin), end - at, p.dtype, bytes);
            const int64_t to = llama_gguf_row(row, p.rope_head_dim) * p.cols + (at - row * p.cols);
            w.write_tensor_data(p.index, static_cast<uint64_t>(to) * dtype_size(p.dtype), bytes.data(), bytes.size());
            at = end;
          }
          return;
        }
        convert(values.data() + (lo - begin), hi - lo, p.dtype, bytes);
        w.write_tensor_data(p.index, static_cast<uint64_t>(lo - p.first) * dtype_size(p.dtype),
                            bytes.data(), bytes.size());
      } catch (const Error& e) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!failed.exchange(true)) error = e.what();
      }
    });
    if (failed) fail(ErrorKind::kInternal, error);
    text.finish();
    mmproj.finish();
    report.tensors = static_cast<int64_t>(plan.size());
    report.bytes = static_cast<int64_t>(fs::file_size(tmp / "model.gguf") +
                                        fs::file_size(tmp / "mmproj.gguf"));
    report.shards = 2;
  });
  report.seconds = timer.ms() / 1000.0;
  return report;
}

}  // namespace kantu::runtime
