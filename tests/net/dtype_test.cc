// dtype_test.cc — float32 ⇄ bfloat16 / float16 conversions, the finiteness check and the sum
// of squares that validation computes with it.
#include "net/dtype.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/error.h"
#include "core/rng.h"

namespace rumor {
namespace {

float from_bits(std::uint32_t bits) { return std::bit_cast<float>(bits); }

TEST(Bf16, RoundsToNearestEven) {
  EXPECT_EQ(float_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(float_to_bf16(from_bits(0x3f808000)), 0x3f80);  // tie, even stays
  EXPECT_EQ(float_to_bf16(from_bits(0x3f818000)), 0x3f82);  // tie, odd rounds up
  EXPECT_EQ(float_to_bf16(from_bits(0x3f808001)), 0x3f81);  // above the tie
  EXPECT_EQ(float_to_bf16(from_bits(0x3f807fff)), 0x3f80);  // below the tie
  EXPECT_EQ(float_to_bf16(-2.0f), 0xc000);
  EXPECT_EQ(float_to_bf16(std::numeric_limits<float>::max()), 0x7f80);  // overflows to inf
  EXPECT_EQ(float_to_bf16(std::numeric_limits<float>::infinity()), 0x7f80);
  EXPECT_EQ(float_to_bf16(-std::numeric_limits<float>::infinity()), 0xff80);
}

TEST(Bf16, NanStaysNan) {
  // A NaN whose payload sits only in the low bits must not round to inf.
  const float nan_low = from_bits(0x7f800001);
  EXPECT_TRUE(std::isnan(bf16_to_float(float_to_bf16(nan_low))));
  EXPECT_TRUE(std::isnan(bf16_to_float(float_to_bf16(std::nanf("")))));
}

TEST(Bf16, EveryValueRoundTrips) {
  for (std::uint32_t h = 0; h <= 0xffff; ++h) {
    const float f = bf16_to_float(static_cast<std::uint16_t>(h));
    if (std::isnan(f)) continue;
    EXPECT_EQ(float_to_bf16(f), h) << std::hex << h;
  }
}

TEST(Fp16, KnownValues) {
  EXPECT_EQ(float_to_fp16(0.0f), 0x0000);
  EXPECT_EQ(float_to_fp16(-0.0f), 0x8000);
  EXPECT_EQ(float_to_fp16(1.0f), 0x3c00);
  EXPECT_EQ(float_to_fp16(65504.0f), 0x7bff);     // largest finite
  EXPECT_EQ(float_to_fp16(65519.996f), 0x7bff);   // just below the tie
  EXPECT_EQ(float_to_fp16(65520.0f), 0x7c00);     // tie with odd mantissa: to inf
  EXPECT_EQ(float_to_fp16(1e9f), 0x7c00);
  EXPECT_EQ(float_to_fp16(0x1.0p-14f), 0x0400);   // smallest normal
  EXPECT_EQ(float_to_fp16(0x1.0p-24f), 0x0001);   // smallest subnormal
  EXPECT_EQ(float_to_fp16(0x1.0p-25f), 0x0000);   // tie between 0 and 2^-24: to even (0)
  EXPECT_EQ(float_to_fp16(0x1.000002p-25f), 0x0001);
  EXPECT_EQ(float_to_fp16(0x1.8p-24f), 0x0002);   // 1.5 units: tie, to even (2)
  EXPECT_EQ(float_to_fp16(0x1.ff8p-15f), 0x03ff);  // largest subnormal
  EXPECT_EQ(float_to_fp16(0x1.ffcp-15f), 0x0400);  // tie above it: to even, out of the subnormals
  EXPECT_EQ(float_to_fp16(-std::numeric_limits<float>::infinity()), 0xfc00);
  const std::uint16_t nan = float_to_fp16(std::nanf(""));
  EXPECT_EQ(nan & 0x7c00, 0x7c00);
  EXPECT_NE(nan & 0x03ff, 0);
  EXPECT_EQ(fp16_to_float(0x0001), 0x1.0p-24f);
  EXPECT_EQ(fp16_to_float(0x03ff), 0x1.ff8p-15f);
  EXPECT_EQ(fp16_to_float(0xc000), -2.0f);
  EXPECT_TRUE(std::isinf(fp16_to_float(0x7c00)));
  EXPECT_TRUE(std::isnan(fp16_to_float(0x7e00)));
}

TEST(Fp16, EveryValueRoundTrips) {
  for (std::uint32_t h = 0; h <= 0xffff; ++h) {
    const float f = fp16_to_float(static_cast<std::uint16_t>(h));
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(fp16_to_float(float_to_fp16(f)))) << std::hex << h;
      continue;
    }
    EXPECT_EQ(float_to_fp16(f), h) << std::hex << h;
  }
}

#if defined(__FLT16_MAX__) && !defined(__clang__)
// GCC's _Float16 conversions (IEEE round-to-nearest-even) as the oracle.
TEST(Fp16, MatchesCompilerConversionOnRandomFloats) {
  Rng rng(7);
  for (int i = 0; i < 2'000'000; ++i) {
    // Random bit patterns concentrated on the half range: exponents 2^-30 .. 2^17.
    const std::uint32_t bits = static_cast<std::uint32_t>(rng.next_u64());
    const std::uint32_t exponent = 97 + static_cast<std::uint32_t>(rng.below(48));
    const float f = from_bits((bits & 0x807fffffu) | (exponent << 23));
    const _Float16 h = static_cast<_Float16>(f);
    std::uint16_t expected;
    std::memcpy(&expected, &h, 2);
    ASSERT_EQ(float_to_fp16(f), expected) << std::hexfloat << f;
  }
  for (std::uint32_t h = 0; h <= 0xffff; ++h) {
    _Float16 v;
    const auto bits = static_cast<std::uint16_t>(h);
    std::memcpy(&v, &bits, 2);
    const float expected = static_cast<float>(v);
    if (std::isnan(expected)) continue;
    ASSERT_EQ(fp16_to_float(bits), expected) << std::hex << h;
  }
}
#endif

class DTypeArrays : public ::testing::TestWithParam<WireDType> {};

TEST_P(DTypeArrays, EncodeDecodeUnalignedOddSizes) {
  const WireDType dtype = GetParam();
  Rng rng(11);
  for (std::size_t n : {0u, 1u, 7u, 1001u}) {
    std::vector<float> src(n);
    for (float& v : src) v = static_cast<float>(rng.normal());
    // One byte of offset: received frames are not aligned.
    std::vector<std::byte> storage(n * wire_dtype_size(dtype) + 1);
    std::span<std::byte> wire(storage.data() + 1, n * wire_dtype_size(dtype));
    encode_floats(src, dtype, wire);
    std::vector<float> back(n, -1.0f);
    decode_floats(wire, dtype, back);
    for (std::size_t i = 0; i < n; ++i) {
      const float tol = dtype == WireDType::kFloat32 ? 0.0f
                        : dtype == WireDType::kBFloat16 ? 0x1.0p-8f * std::fabs(src[i])
                                                        : 0x1.0p-11f * std::fabs(src[i]) + 0x1.0p-24f;
      ASSERT_NEAR(back[i], src[i], tol) << i;
    }
    EXPECT_TRUE(all_finite(wire, dtype));
  }
}

TEST_P(DTypeArrays, AllFiniteFindsNanAndInfAnywhere) {
  const WireDType dtype = GetParam();
  const std::size_t n = 37;
  for (float bad : {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                    std::nanf("")}) {
    for (std::size_t at : {std::size_t{0}, std::size_t{18}, n - 1}) {
      std::vector<float> src(n, 0.5f);
      src[at] = bad;
      std::vector<std::byte> wire(n * wire_dtype_size(dtype));
      encode_floats(src, dtype, wire);
      EXPECT_FALSE(all_finite(wire, dtype)) << at;
    }
  }
}

TEST_P(DTypeArrays, SizeMismatchIsAnError) {
  const WireDType dtype = GetParam();
  std::vector<float> src(4);
  std::vector<std::byte> wire(4 * wire_dtype_size(dtype) + 1);
  EXPECT_THROW(encode_floats(src, dtype, wire), Error);
  EXPECT_THROW(decode_floats(wire, dtype, src), Error);
}

INSTANTIATE_TEST_SUITE_P(AllDTypes, DTypeArrays,
                         ::testing::Values(WireDType::kFloat32, WireDType::kBFloat16,
                                           WireDType::kFloat16),
                         [](const auto& info) { return std::string(wire_dtype_name(info.param)); });

// Σx² in double, element by element: the reference.
double reference_sum_squares(const std::vector<float>& values) {
  double sum = 0.0;
  for (float v : values) sum += static_cast<double>(v) * v;
  return sum;
}

// The float32 bytes of `values` one byte past an aligned address (frames are not aligned).
std::vector<std::byte> unaligned_bytes(const std::vector<float>& values) {
  std::vector<std::byte> storage(values.size() * 4 + 1);
  if (!values.empty()) std::memcpy(storage.data() + 1, values.data(), values.size() * 4);
  return storage;
}

std::span<const std::byte> payload_of(const std::vector<std::byte>& storage) {
  return std::span<const std::byte>(storage).subspan(1);
}

TEST(Float32SumSquares, MatchesADoubleSumWithinTheStatedError) {
  Rng rng(5);
  // Sizes around the block (1024) and lane (32) boundaries, and one of a model.
  for (std::size_t n : {0u, 1u, 31u, 33u, 1023u, 1025u, 4097u, 235146u}) {
    std::vector<float> values(n);
    // Magnitudes spread over six orders, as in real parameters.
    for (float& v : values) v = static_cast<float>(rng.normal() * std::pow(10.0, rng.uniform() * 6 - 3));
    const auto storage = unaligned_bytes(values);
    const Float32Sums sums = float32_sum_squares(payload_of(storage));
    const double expected = reference_sum_squares(values);
    EXPECT_TRUE(sums.finite) << n;
    EXPECT_NEAR(sums.sum_squares, expected, 1e-5 * expected) << n;
  }
}

TEST(Float32SumSquares, FindsNanAndInfAnywhere) {
  const std::size_t n = 3000;  // three blocks
  for (float bad : {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                    std::nanf("")}) {
    for (std::size_t at : {std::size_t{0}, std::size_t{1500}, n - 1}) {
      std::vector<float> values(n, 0.5f);
      values[at] = bad;
      const auto storage = unaligned_bytes(values);
      const Float32Sums sums = float32_sum_squares(payload_of(storage));
      EXPECT_FALSE(sums.finite) << at;
      EXPECT_FALSE(std::isfinite(sums.sum_squares)) << at;
    }
  }
}

// Finite values whose squares overflow float (beyond 1.8e19) are still finite, and their sum
// is right: the block is summed again in double.
TEST(Float32SumSquares, HugeFiniteValuesAreFiniteAndSummedInDouble) {
  std::vector<float> values(2048, 1.0f);
  values[100] = 3e19f;
  values[1500] = -std::numeric_limits<float>::max();
  const auto storage = unaligned_bytes(values);
  const Float32Sums sums = float32_sum_squares(payload_of(storage));
  EXPECT_TRUE(sums.finite);
  const double expected = reference_sum_squares(values);
  EXPECT_TRUE(std::isfinite(expected));
  EXPECT_NEAR(sums.sum_squares, expected, 1e-12 * expected);
}

TEST(WireDType, CodesAndSizes) {
  EXPECT_EQ(wire_dtype_size(WireDType::kFloat32), 4u);
  EXPECT_EQ(wire_dtype_size(WireDType::kBFloat16), 2u);
  EXPECT_EQ(wire_dtype_size(WireDType::kFloat16), 2u);
  EXPECT_EQ(wire_dtype_size(WireDType::kFloat64), 8u);
  EXPECT_EQ(wire_dtype_from_code(1), WireDType::kBFloat16);
  EXPECT_EQ(wire_dtype_from_code(3), WireDType::kFloat64);
  EXPECT_FALSE(wire_dtype_from_code(4).has_value());
  EXPECT_FALSE(wire_dtype_from_code(~0ull).has_value());
}

TEST(WireDType, Float64WidensExactlyAndFlagsNonFinite) {
  const std::vector<float> values = {1.5f, -0.1f, 3.4e38f, 1e-45f};
  std::vector<std::byte> wire(values.size() * 8);
  encode_floats(values, WireDType::kFloat64, wire);
  std::vector<float> back(values.size());
  decode_floats(wire, WireDType::kFloat64, back);
  EXPECT_EQ(back, values);
  EXPECT_TRUE(all_finite(wire, WireDType::kFloat64));
  const double inf = std::numeric_limits<double>::infinity();
  std::memcpy(wire.data() + 8, &inf, 8);
  EXPECT_FALSE(all_finite(wire, WireDType::kFloat64));
}

}  // namespace
}  // namespace rumor
