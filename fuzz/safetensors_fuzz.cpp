// libFuzzer target: any bytes given to the safetensors reader must give either a valid
// file or a kantu::Error, never a crash, hang or sanitizer report.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "core/tensor.h"
#include "formats/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto st = kantu::SafetensorsFile::parse(
        std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.safetensors");
    // Read every accepted tensor the way a model would, to prove the views are in bounds.
    for (const auto& [name, view] : st.tensors()) {
      switch (view.dtype) {
        case kantu::DType::kF32:
        case kantu::DType::kF16:
        case kantu::DType::kBF16:
        case kantu::DType::kF64: {
          const auto values = kantu::to_f32(view);
          if (values.size() != static_cast<size_t>(view.numel())) __builtin_trap();
          break;
        }
        default: {
          volatile uint8_t sum = 0;
          const auto* bytes = static_cast<const uint8_t*>(view.data);
          for (size_t i = 0; i < view.nbytes; ++i) sum = sum + bytes[i];
          break;
        }
      }
    }
  } catch (const kantu::Error&) {
  }
  return 0;
}
