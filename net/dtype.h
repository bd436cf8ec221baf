// dtype.h — the element types a payload can have on the wire, and conversions to and from
// float32.
//
// float32 is the model's dtype; bfloat16 and float16 are wire compression: the sender converts
// its float32 parameters into a pooled buffer, the receiver converts back. Payloads are
// little-endian (static_assert below) and may be unaligned (ZeroMQ places small frames at any
// offset), so every routine here reads and writes through memcpy-sized loads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace rumor {

enum class WireDType : std::uint8_t {
  kFloat32 = 0,
  kBFloat16 = 1,  // float32 with the low 16 mantissa bits rounded away (round-to-nearest-even)
  kFloat16 = 2,   // IEEE 754 binary16 (round-to-nearest-even, subnormals kept, overflow → inf)
  kFloat64 = 3,   // IEEE 754 binary64: running totals that must not lose precision
                  // (robust push-sum); float32 values widen exactly
};

inline constexpr int kNumWireDTypes = 4;

// Bytes per element: 4, 2, 2, 8.
std::size_t wire_dtype_size(WireDType dtype);
std::string_view wire_dtype_name(WireDType dtype);
// The dtype with this wire code, or nullopt for an unknown code.
std::optional<WireDType> wire_dtype_from_code(std::uint64_t code);

// Scalar conversions (exact where the format allows; NaN stays NaN, sign kept).
std::uint16_t float_to_bf16(float value);
float bf16_to_float(std::uint16_t bits);
std::uint16_t float_to_fp16(float value);
float fp16_to_float(std::uint16_t bits);

// Converts src (float32) into `dtype` elements in dst. dst.size() must be
// src.size() * wire_dtype_size(dtype) (checked). Does not allocate.
void encode_floats(std::span<const float> src, WireDType dtype, std::span<std::byte> dst);

// Converts `dtype` elements in src back to float32 in dst. src.size() must be
// dst.size() * wire_dtype_size(dtype) (checked). Does not allocate.
void decode_floats(std::span<const std::byte> src, WireDType dtype, std::span<float> dst);

// True when no element of src (a whole number of `dtype` elements) is NaN or ±inf.
bool all_finite(std::span<const std::byte> src, WireDType dtype);

// Σx² of the float32 elements in src, and whether every one is finite, in one read: what the
// receiver's validation and the plausibility check (the L2 norm) both need. The squares are
// summed in float over short blocks and the blocks in double: relative error below 1e-5, about
// four times the speed of a double sum. Exact finiteness: a block whose float sum overflowed
// (elements beyond 1.8e19) is summed again in double and checked element by element.
struct Float32Sums {
  double sum_squares = 0.0;  // NaN or inf when some element is
  bool finite = true;
};
Float32Sums float32_sum_squares(std::span<const std::byte> src);

}  // namespace rumor
