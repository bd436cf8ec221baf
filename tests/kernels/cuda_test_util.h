// cuda_test_util.h — helpers for the CUDA parity tests: skipping without a device, random
// inputs, NaN poisoning, and the abs + rel·|ref| comparison in which NaN never passes.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <sstream>
#include <vector>

#include "core/rng.h"
#include "kernels/cuda/cuda_backend.h"

// Skips the current test (counted as skipped, not passed) when no CUDA device is usable.
#define RUMOR_SKIP_WITHOUT_CUDA()                                                   \
  do {                                                                              \
    if (::rumor::cuda_device_count() == 0) {                                        \
      GTEST_SKIP() << "no CUDA device: " << ::rumor::cuda_unavailable_reason();     \
    }                                                                               \
  } while (0)

namespace rumor::testkit {

inline constexpr float kPoison = std::numeric_limits<float>::quiet_NaN();

// n values uniform in [lo, hi).
inline std::vector<float> random_floats(Rng& rng, std::size_t n, float lo = -1.0f,
                                        float hi = 1.0f) {
  std::vector<float> values(n);
  for (float& v : values) v = lo + static_cast<float>(rng.uniform()) * (hi - lo);
  return values;
}

// Passes when every got[i] is within abs_tol + rel_tol·|ref[i]| of ref[i], or equal to it
// (so ±Inf may match itself). NaN on either side never passes. Reports the first mismatches.
inline ::testing::AssertionResult all_close(std::span<const float> got,
                                            std::span<const float> ref, double abs_tol,
                                            double rel_tol) {
  if (got.size() != ref.size()) {
    return ::testing::AssertionFailure()
           << "sizes differ: got " << got.size() << ", expected " << ref.size();
  }
  std::size_t bad = 0;
  std::ostringstream report;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double g = got[i];
    const double r = ref[i];
    const double tol = abs_tol + rel_tol * std::abs(r);
    if (g == r || std::abs(g - r) <= tol) continue;  // false for NaN
    if (bad++ < 5) {
      report << "\n  [" << i << "] got " << g << ", expected " << r << " (tolerance " << tol
             << ")";
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad << " of " << got.size()
                                       << " elements differ:" << report.str();
}

inline ::testing::AssertionResult all_close(const std::vector<float>& got,
                                            const std::vector<float>& ref, double abs_tol,
                                            double rel_tol) {
  return all_close(std::span<const float>(got), std::span<const float>(ref), abs_tol, rel_tol);
}

}  // namespace rumor::testkit
