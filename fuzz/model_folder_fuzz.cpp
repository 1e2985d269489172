// libFuzzer target: the config files of a model folder. The input is split at NUL bytes
// into config.json, generation_config.json and preprocessor_config.json, written to a
// temp folder and opened (configs only). Must give a folder or a kantu::Error, never crash.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/error.h"
#include "formats/model_folder.h"
#include "formats/model_summary.h"

namespace {

const std::string& temp_dir() {
  static const std::string dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("kantu_model_folder_fuzz_" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d.string();
  }();
  return dir;
}

void write_or_remove(const std::string& path, std::string_view bytes, bool present) {
  if (!present) {
    std::remove(path.c_str());
    return;
  }
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return;
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const char* names[] = {"config.json", "generation_config.json", "preprocessor_config.json"};
  size_t start = 0;
  for (int i = 0; i < 3; ++i) {
    const size_t end = std::min(input.find('\0', start), input.size());
    const bool present = start <= input.size() && (i == 0 || start < input.size());
    write_or_remove(temp_dir() + "/" + names[i],
                    start <= input.size() ? input.substr(start, end - start) : std::string_view(),
                    present);
    start = end + 1;
  }
  try {
    const auto model = kantu::ModelFolder::open(temp_dir(), {.load_weights = false});
    kantu::read_text_sizes(model);
    kantu::read_vision_sizes(model);
  } catch (const kantu::Error&) {
  }
  return 0;
}
