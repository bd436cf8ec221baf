// kernel_test_util.h — helpers shared by the kernel tests: seeded random inputs, poisoned
// outputs, and comparison of any Backend's output against a reference vector.
//
// Works with every Backend (host or device memory): data moves only through DeviceArray's
// upload()/to_host(), i.e. copy_from_host/copy_to_host, never through host pointers into
// backend memory. Poisoning uses copy_from_host too, so fill() can itself be under test.
//
// Typical use (the reference is plain loops in double, written in the test):
//   DeviceArray<float> y = to_device(backend, host_y);
//   poison(out);
//   backend.relu(y.data(), out.data(), n);
//   EXPECT_TRUE(all_close(out, reference, kExact));
//
// A parity test for another backend compares against the CPU backend's output the same way:
// all_close(cuda_out, cpu_out.to_host(), tol).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "core/rng.h"
#include "kernels/backend.h"

namespace rumor::kernel_test {

// Pass when |actual - expected| <= abs + rel * |expected|. NaN never passes; an infinite
// expected value passes only for the identical infinity.
struct Tolerance {
  double abs = 0.0;
  double rel = 0.0;
};

// For results that must be bit-exact up to float rounding of an exact double value
// (one rounding: half an ulp, i.e. 2^-24 relative).
inline constexpr Tolerance kOneRounding{0.0, 0x1.0p-24};
// For results that must equal the reference exactly (selections, copies, relu).
inline constexpr Tolerance kExact{0.0, 0.0};

// What outputs are filled with before an op runs: a quiet NaN fails every comparison, so an
// element the op forgot to write is caught. Integer outputs get kPoisonIndex instead.
inline constexpr float kPoison = std::numeric_limits<float>::quiet_NaN();
inline constexpr std::int32_t kPoisonIndex = -0x5EAD;

// The sizes elementwise ops are tested on: odd, around SIMD widths and cache lines, large.
inline const std::vector<std::size_t> kOddSizes{1, 3, 17, 33, 127, 1000, 4097};

// n floats uniform in [lo, hi).
inline std::vector<float> random_uniform(Rng& rng, std::size_t n, double lo, double hi) {
  std::vector<float> out(n);
  for (auto& v : out) v = static_cast<float>(lo + (hi - lo) * rng.uniform());
  return out;
}

// n floats from N(0, stddev^2).
inline std::vector<float> random_normal(Rng& rng, std::size_t n, double stddev) {
  std::vector<float> out(n);
  for (auto& v : out) v = static_cast<float>(stddev * rng.normal());
  return out;
}

// n labels uniform in [0, classes).
inline std::vector<std::int32_t> random_labels(Rng& rng, std::size_t n, int classes) {
  std::vector<std::int32_t> out(n);
  for (auto& v : out) v = static_cast<std::int32_t>(rng.below(static_cast<std::uint64_t>(classes)));
  return out;
}

// A backend array holding `host`.
template <class T>
DeviceArray<T> to_device(Backend& backend, std::span<const T> host) {
  DeviceArray<T> out(backend, host.size());
  out.upload(host);
  return out;
}
template <class T>
DeviceArray<T> to_device(Backend& backend, const std::vector<T>& host) {
  return to_device(backend, std::span<const T>(host));
}

// Overwrites every element of `array` with the poison value (through copy_from_host).
inline void poison(DeviceArray<float>& array) {
  array.upload(std::vector<float>(array.size(), kPoison));
}
inline void poison(DeviceArray<std::int32_t>& array) {
  array.upload(std::vector<std::int32_t>(array.size(), kPoisonIndex));
}

// True when every element of `host` is a NaN with kPoison's bit pattern: the op left it alone.
inline bool still_poisoned(std::span<const float> host) {
  for (float v : host) {
    if (std::bit_cast<std::uint32_t>(v) != std::bit_cast<std::uint32_t>(kPoison)) return false;
  }
  return true;
}

// A backend array of n poisoned elements.
template <class T>
DeviceArray<T> poisoned(Backend& backend, std::size_t n) {
  DeviceArray<T> out(backend, n);
  poison(out);
  return out;
}

// n floats placed inside a larger allocation between kFront and kBack guard elements. data()
// is therefore NOT 64-byte aligned (arena views need not be either), and guards_intact() tells
// whether an op wrote outside [data(), data() + n).
//
// Guards hold canaries: finite negative values unique to each array and position, so that an
// overrun is caught even when it computes (relu gives 0, a copy brings another array's canary,
// axpby mixes two canaries). NaN guards would not do: NaN in, same NaN out.
class GuardedArray {
 public:
  static constexpr std::size_t kFront = 3;
  static constexpr std::size_t kBack = 29;

  // n poisoned elements (an output).
  GuardedArray(Backend& backend, std::size_t n)
      : storage_(backend, kFront + n + kBack), n_(n), canaries_(kFront + kBack) {
    static int next_id = 0;
    const float base = -1000.0f - 64.0f * static_cast<float>(next_id++ % 100000);
    for (std::size_t i = 0; i < canaries_.size(); ++i) {
      canaries_[i] = base - static_cast<float>(i) - 0.5f;
    }
    std::vector<float> host(storage_.size(), kPoison);
    std::copy_n(canaries_.begin(), kFront, host.begin());
    std::copy_n(canaries_.begin() + kFront, kBack, host.end() - kBack);
    storage_.upload(host);
  }
  // Holds `values` (an input, or an output updated in place).
  GuardedArray(Backend& backend, std::span<const float> values)
      : GuardedArray(backend, values.size()) {
    if (n_ != 0) backend.copy_from_host(data(), values.data(), n_ * sizeof(float));
  }

  float* data() { return storage_.data() + kFront; }
  std::size_t size() const { return n_; }
  // The n elements (synchronizes).
  std::vector<float> to_host() const {
    const std::vector<float> all = storage_.to_host();
    return {all.begin() + kFront, all.begin() + static_cast<std::ptrdiff_t>(kFront + n_)};
  }
  // True when no element outside the n was changed.
  bool guards_intact() const {
    const std::vector<float> all = storage_.to_host();
    return std::equal(all.begin(), all.begin() + kFront, canaries_.begin()) &&
           std::equal(all.end() - kBack, all.end(), canaries_.begin() + kFront);
  }

 private:
  DeviceArray<float> storage_;
  std::size_t n_;
  std::vector<float> canaries_;  // kFront front values, then kBack back values
};

inline std::vector<double> to_double(std::span<const float> values) {
  return std::vector<double>(values.begin(), values.end());
}

// True when `actual` is within `tol` of `expected` (see Tolerance; NaN fails).
inline bool within(double actual, double expected, Tolerance tol) {
  if (std::isnan(expected) || std::isnan(actual)) return false;
  if (std::isinf(expected)) return actual == expected;
  // Written so that a NaN difference (inf - inf) compares false and fails.
  return std::abs(actual - expected) <= tol.abs + tol.rel * std::abs(expected);
}

// Compares element by element; on failure reports how many elements differ and the first
// few (index, actual, expected, allowed error).
inline ::testing::AssertionResult all_close(std::span<const float> actual,
                                            std::span<const double> expected, Tolerance tol) {
  if (actual.size() != expected.size()) {
    return ::testing::AssertionFailure()
           << "size mismatch: actual has " << actual.size() << " elements, expected "
           << expected.size();
  }
  constexpr int kShown = 8;
  std::size_t bad = 0;
  std::ostringstream detail;
  detail.precision(9);
  for (std::size_t i = 0; i < actual.size(); ++i) {
    if (within(actual[i], expected[i], tol)) continue;
    if (bad < kShown) {
      detail << "\n  [" << i << "] actual " << actual[i] << ", expected " << expected[i]
             << " (allowed error " << tol.abs + tol.rel * std::abs(expected[i]) << ")";
    }
    ++bad;
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << bad << " of " << actual.size() << " elements differ (tolerance abs " << tol.abs
         << " + rel " << tol.rel << " * |expected|):" << detail.str()
         << (bad > kShown ? "\n  ..." : "");
}
inline ::testing::AssertionResult all_close(std::span<const float> actual,
                                            std::span<const float> expected, Tolerance tol) {
  return all_close(actual, to_double(expected), tol);
}
// Downloads a backend array (DeviceArray<float> or GuardedArray) and compares it with a
// vector<double> or vector<float> reference.
template <class Array, class Ref>
  requires requires(const Array& array) {
    { array.to_host() } -> std::same_as<std::vector<float>>;
  }
::testing::AssertionResult all_close(const Array& actual, const Ref& expected, Tolerance tol) {
  const std::vector<float> host = actual.to_host();
  return all_close(std::span<const float>(host),
                   std::span<const typename Ref::value_type>(expected), tol);
}

// Exact comparison for integer outputs (indices, labels).
inline ::testing::AssertionResult all_equal(std::span<const std::int32_t> actual,
                                            std::span<const std::int32_t> expected) {
  if (actual.size() != expected.size()) {
    return ::testing::AssertionFailure()
           << "size mismatch: actual has " << actual.size() << " elements, expected "
           << expected.size();
  }
  std::size_t bad = 0;
  std::ostringstream detail;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    if (actual[i] == expected[i]) continue;
    if (bad < 8) detail << "\n  [" << i << "] actual " << actual[i] << ", expected " << expected[i];
    ++bad;
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << bad << " of " << actual.size() << " elements differ:" << detail.str();
}
inline ::testing::AssertionResult all_equal(const DeviceArray<std::int32_t>& actual,
                                            const std::vector<std::int32_t>& expected) {
  const std::vector<std::int32_t> host = actual.to_host();
  return all_equal(host, expected);
}

// Scalar comparison (reductions).
inline ::testing::AssertionResult scalar_close(double actual, double expected, Tolerance tol) {
  if (within(actual, expected, tol)) return ::testing::AssertionSuccess();
  std::ostringstream out;
  out.precision(17);
  out << "actual " << actual << ", expected " << expected << " (allowed error "
      << tol.abs + tol.rel * std::abs(expected) << ")";
  return ::testing::AssertionFailure() << out.str();
}


}  // namespace rumor::kernel_test
