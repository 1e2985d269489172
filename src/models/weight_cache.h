// Weights converted at load (BF16 -> Q8_0 / Q4_0), written once to a cache file and
// memory-mapped on every later start, so start-up costs a mapping and the pages stay in the
// page cache (shared, not anonymous RSS).
//
// The cache file is a plain safetensors file: one U8 tensor per converted matrix (its blocks,
// 64-byte aligned), and metadata holding the block type and shape of each matrix plus the
// cache key. The key names the format version and the identity (absolute path, size,
// modification time) of the model's weight files and the list of conversions; the file name
// carries a hash of it. Files are written to a temporary name and renamed, so a reader never
// sees half a file; a file that fails to parse, has another key, or lacks a tensor is
// rebuilt, never trusted.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "formats/safetensors.h"
#include "kernels/ops.h"

namespace kantu::models {

// One matrix to convert; `matrix` is rebound to the converted blocks.
struct MatrixConversion {
  std::string name;               // unique, stable (part of the key)
  kernels::WeightMatrix* matrix;  // F32, F16 or BF16 on entry
  DType target;                   // kQ8_0 or kQ4_0
};

struct CacheRequest {
  std::string model_path;   // the model folder (or weight file) the matrices come from
  // The weight files whose identity keys the cache; empty: every .safetensors / .gguf file
  // of model_path (or model_path itself when it is a file).
  std::vector<std::string> source_files;
  std::string cache_dir;    // empty: default_cache_dir(model_path)
  std::string tag;          // readable part of the file name, e.g. "q8-q4"
};

// Owns the converted bytes: the mapped cache file, or heap memory when no cache file could
// be written (read-only disk): then the conversion is redone on every start.
class ConvertedWeights {
 public:
  const std::string& cache_path() const { return cache_path_; }
  bool from_cache() const { return from_cache_; }  // true: mapped an existing file

 private:
  friend std::unique_ptr<ConvertedWeights> convert_weights(std::vector<MatrixConversion>&,
                                                           const CacheRequest&, ThreadPool*);
  SafetensorsFile file_;
  std::vector<std::vector<uint8_t>> owned_;
  std::string cache_path_;
  bool from_cache_ = false;
};

// Converts every matrix of `list` (reading the cache file when a valid one exists, else
// converting on the pool and writing it) and rebinds the matrices to the result, which
// lives as long as the returned object.
std::unique_ptr<ConvertedWeights> convert_weights(std::vector<MatrixConversion>& list,
                                                  const CacheRequest& request, ThreadPool* pool);

// <model>/.kantu when it can be created and written (and the model is not in a Hugging
// Face cache snapshot), else $XDG_CACHE_HOME/kantu, else $HOME/.cache/kantu.
std::string default_cache_dir(const std::string& model_path);

// The cache file `convert_weights` would use for this list and request (for tests).
std::string cache_file_path(const std::vector<MatrixConversion>& list, const CacheRequest& request);

}  // namespace kantu::models
