// Which ops have an AVX-512 version. Not compiled with AVX-512 flags: it only takes addresses.
#include "kernels/avx512.h"

namespace kantu::kernels::avx512 {

void fill_table(KernelTable* table) { table->matmul = matmul; }

}  // namespace kantu::kernels::avx512
