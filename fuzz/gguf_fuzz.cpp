// libFuzzer target: any bytes given to the GGUF reader must give either a valid file or a
// kantu::Error, never a crash, hang or sanitizer report.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "core/tensor.h"
#include "formats/gguf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto f = kantu::GgufFile::parse(
        std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.gguf");
    // Touch every accepted value and tensor byte, to prove the views are in bounds.
    volatile size_t sum = 0;
    for (const auto& kv : f.metadata()) {
      for (std::string_view s : kv.strings) {
        for (char c : s) sum = sum + static_cast<unsigned char>(c);
      }
      if (kv.data) {
        try {
          if (kv.is_array) {
            sum = sum + f.numbers(kv.key).size();
          } else {
            sum = sum + static_cast<size_t>(f.number(kv.key) != 0);
          }
        } catch (const kantu::Error&) {  // bools are not numbers
        }
      }
    }
    for (const auto& [name, view] : f.tensors()) {
      const auto* bytes = static_cast<const uint8_t*>(view.data);
      for (size_t i = 0; i < view.nbytes; ++i) sum = sum + bytes[i];
      if (view.dtype == kantu::DType::kF32 || view.dtype == kantu::DType::kF16 ||
          view.dtype == kantu::DType::kBF16) {
        if (kantu::to_f32(view).size() != static_cast<size_t>(view.numel())) __builtin_trap();
      }
    }
  } catch (const kantu::Error&) {
  }
  return 0;
}
