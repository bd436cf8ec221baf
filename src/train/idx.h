// idx.h — the file layer under the datasets: whole-file gzip decompression (zlib) and IDX
// header validation (the format of MNIST and Fashion-MNIST).
//
// Both treat the file as untrusted: every problem (missing file, not gzip, truncated or corrupt
// stream, wrong magic, dimensions that overflow or do not match the data length) becomes a
// rumor::DataError whose message starts with the file's name. Nothing is allocated from sizes
// a header claims; lengths are checked against the bytes actually present.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>
#include <vector>

namespace rumor {

// Largest decompressed size read_gzip_file accepts by default (bytes): a guard against gzip
// bombs. Fashion-MNIST's largest file is 47 MB decompressed.
inline constexpr std::size_t kMaxGzipBytes = std::size_t{1} << 30;

// Reads and decompresses the whole gzip file at `path` (all members, if several are
// concatenated). Throws DataError naming the file when it is missing or unreadable, does not
// start with the gzip magic, ends before the stream does ("truncated gzip stream"), fails the
// CRC or is otherwise corrupt, has trailing bytes that are not another gzip member, or would
// decompress to more than `max_bytes`. Blocks on file I/O.
std::vector<std::uint8_t> read_gzip_file(const std::filesystem::path& path,
                                         std::size_t max_bytes = kMaxGzipBytes);

// IDX magic numbers: 0x0000 0x08 (unsigned byte) <number of dimensions>.
inline constexpr std::uint32_t kIdxMagicU8Vector = 0x00000801;  // e.g. labels [count]
inline constexpr std::uint32_t kIdxMagicU8Images = 0x00000803;  // e.g. images [count, rows, cols]

// A validated IDX header: the data are bytes [data_offset, data_offset + data_bytes) of the
// buffer it was parsed from, and data_offset + data_bytes equals the buffer's length.
struct IdxHeader {
  std::uint32_t magic = 0;
  std::vector<std::uint32_t> dims;  // big-endian in the file, host order here
  std::size_t data_offset = 0;      // bytes
  std::size_t data_bytes = 0;       // product of dims (element size is 1 byte)
};

// Parses and validates the IDX header of `bytes`. `name` (usually the file name) starts every
// error message. Throws DataError on: a header shorter than 4 + 4·ndims bytes ("truncated IDX
// header"), a magic other than `expected_magic` ("wrong IDX magic"), dimensions whose product
// overflows ("too large"), or a data length differing from the product of the dimensions
// ("IDX data length mismatch", saying how many bytes are missing or extra).
IdxHeader parse_idx_header(std::span<const std::uint8_t> bytes, std::uint32_t expected_magic,
                           std::string_view name);

}  // namespace rumor
