// Which ops have an AVX2 version. Not compiled with AVX2 flags: it only takes addresses.
#include "kernels/avx2.h"

namespace kantu::kernels::avx2 {

void fill_table(KernelTable* table) {
  table->matmul = matmul;
  table->rms_norm = rms_norm;
  table->layer_norm = layer_norm;
  table->gelu_tanh = gelu_tanh;
  table->gelu_erf = gelu_erf;
  table->quick_gelu = quick_gelu;
  table->silu = silu;
  table->silu_mul = silu_mul;
  table->add = add;
  table->rope_rotate_half = rope_rotate_half;
  table->attention = attention;
}

}  // namespace kantu::kernels::avx2
