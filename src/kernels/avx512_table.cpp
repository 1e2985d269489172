// Which ops have an AVX-512 version. Not compiled with AVX-512 flags: it only takes addresses.
#include "kernels/avx512.h"

namespace kantu::kernels::KANTU_AVX512_NS {

void fill_table(KernelTable* table, const CpuFeatures& cpu) {
  table->matmul = cpu.avx512vnni ? matmul_vnni : matmul;
}

}  // namespace kantu::kernels::KANTU_AVX512_NS
