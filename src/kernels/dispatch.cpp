#include "kernels/dispatch.h"

#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "kernels/avx2.h"
#include "kernels/avx512.h"
#include "kernels/ref.h"

namespace kantu::kernels {
namespace {

KernelTable make_scalar_table() {
  KernelTable t;
  t.isa = Isa::kScalar;
  t.matmul = ref::matmul;
  t.rms_norm = ref::rms_norm;
  t.layer_norm = ref::layer_norm;
  t.gelu_tanh = ref::gelu_tanh;
  t.gelu_erf = ref::gelu_erf;
  t.quick_gelu = ref::quick_gelu;
  t.silu = ref::silu;
  t.silu_mul = ref::silu_mul;
  t.add = ref::add;
  t.rope_rotate_half = ref::rope_rotate_half;
  t.attention = ref::attention;
  return t;
}

KernelTable make_avx2_table() {
  KernelTable t = make_scalar_table();
  t.isa = Isa::kAvx2;
  avx2::fill_table(&t);
  return t;
}

KernelTable make_avx512_table() {
  KernelTable t = make_avx2_table();
  t.isa = Isa::kAvx512;
  avx512::fill_table(&t, cpu_features());
  return t;
}

const KernelTable* choose_table() {
  if (const char* forced = std::getenv("KANTU_ISA"); forced != nullptr && *forced != '\0') {
    Isa isa;
    if (!parse_isa(forced, &isa))
      fail(ErrorKind::kInvalidArgument, "KANTU_ISA=", forced,
           " is not one of scalar, avx2, avx512");
    const KernelTable* table = kernels_for(isa);
    if (table == nullptr)
      fail(ErrorKind::kUnsupported, "KANTU_ISA=", forced, ": ",
           isa_supported(isa) ? "this build has no kernels for that level"
                              : "this CPU cannot run that instruction set");
    return table;
  }
  for (Isa isa : {Isa::kAvx512, Isa::kAvx2}) {
    if (const KernelTable* table = kernels_for(isa)) return table;
  }
  return kernels_for(Isa::kScalar);
}

}  // namespace

bool parse_isa(const char* name, Isa* out) {
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (std::strcmp(name, isa_name(isa)) == 0) {
      *out = isa;
      return true;
    }
  }
  return false;
}

const KernelTable* kernels_for(Isa isa) {
  static const KernelTable scalar = make_scalar_table();
  static const KernelTable avx2_table = make_avx2_table();
  static const KernelTable avx512_table = make_avx512_table();
  switch (isa) {
    case Isa::kScalar:
      return &scalar;
    case Isa::kAvx2:
      return isa_supported(Isa::kAvx2) ? &avx2_table : nullptr;
    case Isa::kAvx512:
      return isa_supported(Isa::kAvx512) ? &avx512_table : nullptr;
  }
  return nullptr;
}

const KernelTable& kernel_table() {
  static const KernelTable* table = choose_table();
  return *table;
}

}  // namespace kantu::kernels
