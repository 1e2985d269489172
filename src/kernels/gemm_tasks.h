// How every blocked GEMM (any ISA) splits y[n, rows] into tasks for the thread pool: a task
// owns `nc` weight rows x one block of at most `mc` x rows. The x-row blocks have equal sizes
// rounded up to the tile height `mr`, so no task packs its weights for a handful of leftover
// rows. Each row block packs (and reads from memory) every weight once, so blocks are as
// tall as allowed; they are split further only to give every thread about 4 tasks.
#pragma once

#include <algorithm>
#include <cstdint>

#include "core/thread_pool.h"

namespace kantu::kernels {

// Calls block(i0, i1, r0, r1) for x rows [i0, i1) and weight rows [r0, r1), covering
// [0, n) x [0, rows) once, in parallel when pool has several threads.
template <class Block>
void run_gemm_tasks(int64_t n, int64_t rows, int64_t mc, int64_t mr, int64_t nc, ThreadPool* pool,
                    const Block& block) {
  const int64_t n_col_blocks = (rows + nc - 1) / nc;
  const int64_t threads = pool == nullptr ? 1 : pool->size();
  const int64_t wanted = (4 * threads + n_col_blocks - 1) / n_col_blocks;
  const int64_t n_row_blocks =
      std::max((n + mc - 1) / mc, std::min(wanted, (n + mr - 1) / mr));
  const int64_t per_block = ((n + n_row_blocks - 1) / n_row_blocks + mr - 1) / mr * mr;
  auto task = [&](int64_t t) {
    const int64_t ib = t % n_row_blocks, rb = t / n_row_blocks;
    const int64_t i0 = ib * per_block, i1 = std::min(n, i0 + per_block);
    if (i0 < i1) block(i0, i1, rb * nc, std::min(rows, (rb + 1) * nc));
  };
  const int64_t n_tasks = n_row_blocks * n_col_blocks;
  if (pool == nullptr || pool->size() == 1) {
    for (int64_t t = 0; t < n_tasks; ++t) task(t);
  } else {
    pool->parallel_for(n_tasks, task);
  }
}

}  // namespace kantu::kernels
