// Which ops have an AVX-512 version. Not compiled with AVX-512 flags: it only takes addresses.
#include "kernels/avx512.h"

namespace kantu::kernels::KANTU_AVX512_NS {

void fill_table(KernelTable* table, const CpuFeatures& cpu) {
  table->attention = attention;
  // Every CPU with AVX-512 BF16 so far also has VNNI (Cooper Lake, Sapphire Rapids, Zen 4);
  // one without gets the plain variant.
  if (!cpu.avx512vnni)
    table->matmul = matmul;
  else
    table->matmul = cpu.avx512bf16 ? matmul_vnni_bf16 : matmul_vnni;
}

}  // namespace kantu::kernels::KANTU_AVX512_NS
