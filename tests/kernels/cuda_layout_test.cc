// cuda_layout_test.cc — the host-side arithmetic of the CUDA backend, checked on the CPU so
// that it is exercised on every machine, GPU or not: the row-major → column-major GEMM
// mapping (run through OpenBLAS's column-major sgemm against the row-major reference) and
// the float4 split of the elementwise kernels.
#include <cblas.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "core/rng.h"
#include "kernels/cpu/cpu_backend.h"
#include "kernels/cuda/gemm.h"
#include "kernels/cuda/vec_split.h"
#include "tests/kernels/cuda_test_util.h"

namespace rumor {
namespace {

CBLAS_TRANSPOSE to_cblas(Transpose t) { return t == Transpose::kYes ? CblasTrans : CblasNoTrans; }

TEST(GemmLayout, ColumnMajorMappingMatchesTheRowMajorReference) {
  struct Shape { int m, n, k; };
  CpuBackend cpu(1);
  Rng rng(3);
  for (const Shape s : {Shape{1, 1, 1}, Shape{7, 5, 3}, Shape{37, 53, 29}, Shape{2, 9, 1},
                        Shape{64, 10, 128}}) {
    for (Transpose ta : {Transpose::kNo, Transpose::kYes}) {
      for (Transpose tb : {Transpose::kNo, Transpose::kYes}) {
        SCOPED_TRACE(testing::Message() << "m=" << s.m << " n=" << s.n << " k=" << s.k
                                        << " ta=" << (ta == Transpose::kYes)
                                        << " tb=" << (tb == Transpose::kYes));
        const auto a = testkit::random_floats(rng, static_cast<std::size_t>(s.m) * s.k);
        const auto b = testkit::random_floats(rng, static_cast<std::size_t>(s.k) * s.n);
        const auto c0 = testkit::random_floats(rng, static_cast<std::size_t>(s.m) * s.n);
        std::vector<float> ref = c0;
        cpu.gemm(ta, tb, s.m, s.n, s.k, 1.5f, a.data(), b.data(), 0.25f, ref.data());
        std::vector<float> got = c0;
        const cuda::ColumnMajorGemm g =
            cuda::to_column_major(ta, tb, s.m, s.n, s.k, a.data(), b.data(), got.data());
        cblas_sgemm(CblasColMajor, to_cblas(g.op_first), to_cblas(g.op_second), g.m, g.n, g.k,
                    1.5f, g.first, g.ld_first, g.second, g.ld_second, 0.25f, g.c, g.ldc);
        EXPECT_TRUE(testkit::all_close(got, ref, 1e-6 * s.k, 1e-6));
      }
    }
  }
}

TEST(VecSplit, CoversEveryElementOnceWithAlignedQuads) {
  alignas(16) static float storage[64];
  for (std::size_t n : {0, 1, 2, 3, 4, 5, 7, 8, 9, 31}) {
    for (std::size_t ox = 0; ox < 4; ++ox) {
      for (std::size_t oy = 0; oy < 4; ++oy) {
        SCOPED_TRACE(testing::Message() << "n=" << n << " ox=" << ox << " oy=" << oy);
        const float* x = storage + ox;
        const float* y = storage + 32 + oy;
        const cuda::VecSplit s = cuda::vec_split(n, {x, y});
        ASSERT_LE(s.head + 4 * s.quads, n);
        if (ox != oy) {
          EXPECT_EQ(s.quads, 0u) << "alignments differ: no float4 access";
          EXPECT_EQ(s.head, 0u);
          continue;
        }
        if (s.quads > 0) {
          EXPECT_EQ(reinterpret_cast<std::uintptr_t>(x + s.head) % 16, 0u);
          EXPECT_EQ(reinterpret_cast<std::uintptr_t>(y + s.head) % 16, 0u);
        }
        EXPECT_LE(s.head, 3u);
        EXPECT_LE(n - s.head - 4 * s.quads, 3u) << "tail longer than 3 elements";
      }
    }
  }
}

}  // namespace
}  // namespace rumor
