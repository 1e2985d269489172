// Which ops have an AVX2 version. Not compiled with AVX2 flags: it only takes addresses.
#include "kernels/avx2.h"

namespace kantu::kernels::avx2 {

void fill_table(KernelTable* table) { table->matmul = matmul; }

}  // namespace kantu::kernels::avx2
