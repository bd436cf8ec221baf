// dtype.cc — float32 ⇄ bfloat16 / float16 conversion and finiteness checks on wire bytes.
#include "net/dtype.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/multiversion.h"

namespace rumor {

// The array loops get an AVX2 clone (RUMOR_MULTIVERSION); elsewhere they are plain portable
// loops.

static_assert(std::endian::native == std::endian::little,
              "the wire format is little-endian and rumor reads it in place");

namespace {

std::uint32_t load_u32(const std::byte* p) {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
std::uint16_t load_u16(const std::byte* p) {
  std::uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
void store_u16(std::byte* p, std::uint16_t v) { std::memcpy(p, &v, sizeof v); }
void store_u32(std::byte* p, std::uint32_t v) { std::memcpy(p, &v, sizeof v); }

// Branch-free so that the loops below vectorise.
inline std::uint16_t bf16_from_bits(std::uint32_t bits) {
  const bool is_nan = (bits & 0x7fffffffu) > 0x7f800000u;
  const std::uint32_t rounded = (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
  const std::uint32_t quiet_nan = (bits >> 16) | 0x0040u;
  return static_cast<std::uint16_t>(is_nan ? quiet_nan : rounded);
}

}  // namespace

std::size_t wire_dtype_size(WireDType dtype) {
  switch (dtype) {
    case WireDType::kFloat32: return 4;
    case WireDType::kBFloat16: return 2;
    case WireDType::kFloat16: return 2;
    case WireDType::kFloat64: return 8;
  }
  RUMOR_CHECK(false, "unknown WireDType ", static_cast<int>(dtype));
  return 0;
}

std::string_view wire_dtype_name(WireDType dtype) {
  switch (dtype) {
    case WireDType::kFloat32: return "f32";
    case WireDType::kBFloat16: return "bf16";
    case WireDType::kFloat16: return "f16";
    case WireDType::kFloat64: return "f64";
  }
  return "unknown";
}

std::optional<WireDType> wire_dtype_from_code(std::uint64_t code) {
  if (code >= static_cast<std::uint64_t>(kNumWireDTypes)) return std::nullopt;
  return static_cast<WireDType>(code);
}

std::uint16_t float_to_bf16(float value) { return bf16_from_bits(std::bit_cast<std::uint32_t>(value)); }

float bf16_to_float(std::uint16_t bits) {
  return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16);
}

std::uint16_t float_to_fp16(float value) {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
  const auto sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000u);
  const std::uint32_t abs = bits & 0x7fffffffu;
  if (abs >= 0x7f800000u) {  // inf stays inf; NaN stays a (quiet) NaN with its top payload bits
    const std::uint32_t nan_bits = abs > 0x7f800000u ? 0x0200u | ((abs >> 13) & 0x03ffu) : 0u;
    return static_cast<std::uint16_t>(sign | 0x7c00u | nan_bits);
  }
  // 65520 is halfway between 65504 (largest half, odd mantissa) and 2^16: ties go to even → inf.
  if (abs >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);
  if (abs < 0x38800000u) {  // below 2^-14: a half subnormal (unit 2^-24) or zero
    if (abs <= 0x33000000u) return sign;  // ≤ 2^-25 rounds to zero (2^-25 itself is a tie → even)
    const std::uint32_t exponent = abs >> 23;
    const std::uint32_t mantissa = (abs & 0x007fffffu) | 0x00800000u;
    const std::uint32_t shift = 126u - exponent;  // 14..24
    std::uint32_t result = mantissa >> shift;
    const std::uint32_t rest = mantissa & ((1u << shift) - 1u);
    const std::uint32_t half = 1u << (shift - 1u);
    if (rest > half || (rest == half && (result & 1u))) ++result;  // may carry into 2^-14: fine
    return static_cast<std::uint16_t>(sign | result);
  }
  const std::uint32_t rebiased = abs - 0x38000000u;  // exponent bias 127 → 15
  const std::uint32_t rounded = (rebiased + 0x0fffu + ((rebiased >> 13) & 1u)) >> 13;
  return static_cast<std::uint16_t>(sign | rounded);
}

float fp16_to_float(std::uint16_t bits) {
  const std::uint32_t sign = static_cast<std::uint32_t>(bits & 0x8000u) << 16;
  const std::uint32_t exponent = (bits >> 10) & 0x1fu;
  const std::uint32_t mantissa = bits & 0x03ffu;
  if (exponent == 0x1fu) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
  if (exponent == 0) {  // zero or subnormal: mantissa · 2^-24, exact in float32
    const float magnitude = static_cast<float>(mantissa) * 0x1.0p-24f;
    return std::bit_cast<float>(sign | std::bit_cast<std::uint32_t>(magnitude));
  }
  return std::bit_cast<float>(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

RUMOR_MULTIVERSION
void encode_floats(std::span<const float> src, WireDType dtype, std::span<std::byte> dst) {
  RUMOR_CHECK(dst.size() == src.size() * wire_dtype_size(dtype), "encode_floats: ", src.size(),
              " elements of ", wire_dtype_name(dtype), " need ", src.size() * wire_dtype_size(dtype),
              " bytes, got ", dst.size());
  const std::size_t n = src.size();
  std::byte* out = dst.data();
  switch (dtype) {
    case WireDType::kFloat32:
      if (n != 0) std::memcpy(out, src.data(), n * 4);
      return;
    case WireDType::kBFloat16:
      for (std::size_t i = 0; i < n; ++i) {
        store_u16(out + 2 * i, bf16_from_bits(std::bit_cast<std::uint32_t>(src[i])));
      }
      return;
    case WireDType::kFloat16:
      for (std::size_t i = 0; i < n; ++i) store_u16(out + 2 * i, float_to_fp16(src[i]));
      return;
    case WireDType::kFloat64:
      for (std::size_t i = 0; i < n; ++i) {
        const double wide = src[i];
        std::memcpy(out + 8 * i, &wide, 8);
      }
      return;
  }
}

RUMOR_MULTIVERSION
void decode_floats(std::span<const std::byte> src, WireDType dtype, std::span<float> dst) {
  RUMOR_CHECK(src.size() == dst.size() * wire_dtype_size(dtype), "decode_floats: ", dst.size(),
              " elements of ", wire_dtype_name(dtype), " need ", dst.size() * wire_dtype_size(dtype),
              " bytes, got ", src.size());
  const std::size_t n = dst.size();
  const std::byte* in = src.data();
  switch (dtype) {
    case WireDType::kFloat32:
      if (n != 0) std::memcpy(dst.data(), in, n * 4);
      return;
    case WireDType::kBFloat16:
      for (std::size_t i = 0; i < n; ++i) {
        store_u32(reinterpret_cast<std::byte*>(dst.data() + i),
                  static_cast<std::uint32_t>(load_u16(in + 2 * i)) << 16);
      }
      return;
    case WireDType::kFloat16:
      for (std::size_t i = 0; i < n; ++i) dst[i] = fp16_to_float(load_u16(in + 2 * i));
      return;
    case WireDType::kFloat64:
      for (std::size_t i = 0; i < n; ++i) {
        double wide;
        std::memcpy(&wide, in + 8 * i, 8);
        dst[i] = static_cast<float>(wide);
      }
      return;
  }
}

RUMOR_MULTIVERSION
bool all_finite(std::span<const std::byte> src, WireDType dtype) {
  // Accumulate without early exit so the loops vectorise; callers pass cache-sized chunks.
  const std::byte* in = src.data();
  switch (dtype) {
    case WireDType::kFloat32: {
      const std::size_t n = src.size() / 4;
      std::uint32_t bad = 0;
      for (std::size_t i = 0; i < n; ++i) {
        bad |= static_cast<std::uint32_t>((load_u32(in + 4 * i) & 0x7f800000u) == 0x7f800000u);
      }
      return bad == 0;
    }
    case WireDType::kBFloat16:
    case WireDType::kFloat16: {
      const std::uint16_t mask = dtype == WireDType::kBFloat16 ? 0x7f80u : 0x7c00u;
      const std::size_t n = src.size() / 2;
      std::uint32_t bad = 0;
      for (std::size_t i = 0; i < n; ++i) {
        bad |= static_cast<std::uint32_t>((load_u16(in + 2 * i) & mask) == mask);
      }
      return bad == 0;
    }
    case WireDType::kFloat64: {
      const std::size_t n = src.size() / 8;
      std::uint32_t bad = 0;
      for (std::size_t i = 0; i < n; ++i) {
        std::uint64_t bits;
        std::memcpy(&bits, in + 8 * i, 8);
        constexpr std::uint64_t kExponent = 0x7ff0000000000000ull;
        bad |= static_cast<std::uint32_t>((bits & kExponent) == kExponent);
      }
      return bad == 0;
    }
  }
  return false;
}

namespace {

// Σx² of n float32 elements at `in` (n ≤ kSquaresBlock): float lanes, then one double.
RUMOR_MULTIVERSION
double block_sum_squares(const std::byte* in, std::size_t n) {
  constexpr std::size_t kLanes = 32;  // four AVX2 registers of independent sums
  float partial[kLanes] = {};
  std::size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (std::size_t j = 0; j < kLanes; ++j) {
      const float v = std::bit_cast<float>(load_u32(in + 4 * (i + j)));
      partial[j] += v * v;
    }
  }
  for (; i < n; ++i) {
    const float v = std::bit_cast<float>(load_u32(in + 4 * i));
    partial[i % kLanes] += v * v;
  }
  double sum = 0.0;
  for (float p : partial) sum += static_cast<double>(p);
  return sum;
}

// The same block in double: no overflow for any finite float (at most 3.5e38² · 2^10 terms).
double block_sum_squares_double(const std::byte* in, std::size_t n) {
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double v = std::bit_cast<float>(load_u32(in + 4 * i));
    sum += v * v;
  }
  return sum;
}

}  // namespace

Float32Sums float32_sum_squares(std::span<const std::byte> src) {
  // 32 lanes of 32 squares each: a float sum of 32 non-negative terms is within 32 ulp.
  constexpr std::size_t kSquaresBlock = 1024;
  const std::size_t n = src.size() / 4;
  Float32Sums sums;
  for (std::size_t i = 0; i < n; i += kSquaresBlock) {
    const std::size_t len = std::min(kSquaresBlock, n - i);
    const std::byte* block = src.data() + 4 * i;
    double sum = block_sum_squares(block, len);
    if (!std::isfinite(sum)) {  // NaN or inf in the block, or finite squares overflowing float
      sum = block_sum_squares_double(block, len);
      sums.finite = sums.finite && all_finite(src.subspan(4 * i, 4 * len), WireDType::kFloat32);
    }
    sums.sum_squares += sum;
  }
  return sums;
}

}  // namespace rumor
