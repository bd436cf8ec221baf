// idx.cc — gzip decompression with zlib's inflate and IDX header validation; see idx.h.
#include "train/idx.h"

#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "core/error.h"

namespace rumor {
namespace {

[[noreturn]] void fail(std::string_view name, const std::string& problem) {
  throw DataError(detail::concat(name, ": ", problem));
}

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};

// The raw bytes of the file at `path`.
std::vector<std::uint8_t> read_file(const std::filesystem::path& path) {
  const std::string name = path.string();
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) {
    const int err = errno;
    if (err == ENOENT) fail(name, detail::concat("file missing (", std::strerror(err), ")"));
    fail(name, detail::concat("cannot open: ", std::strerror(err)));
  }
  std::vector<std::uint8_t> bytes;
  struct stat info {};
  if (::fstat(::fileno(file.get()), &info) == 0 && S_ISREG(info.st_mode) && info.st_size > 0) {
    bytes.reserve(static_cast<std::size_t>(info.st_size));
  }
  constexpr std::size_t kChunk = std::size_t{1} << 20;
  for (;;) {
    const std::size_t old_size = bytes.size();
    bytes.resize(old_size + kChunk);
    const std::size_t got = std::fread(bytes.data() + old_size, 1, kChunk, file.get());
    bytes.resize(old_size + got);
    if (got < kChunk) {
      if (std::ferror(file.get())) fail(name, detail::concat("read error: ", std::strerror(errno)));
      break;
    }
  }
  return bytes;
}

// Owns a z_stream set up for gzip decoding; inflateEnd on destruction.
class GzipInflater {
 public:
  explicit GzipInflater(std::string_view name) {
    // 16 + MAX_WBITS: expect a gzip wrapper (header, CRC-32 and length are checked).
    if (inflateInit2(&stream_, 16 + MAX_WBITS) != Z_OK) {
      throw Error(detail::concat(name, ": zlib inflateInit2 failed"));
    }
  }
  ~GzipInflater() { inflateEnd(&stream_); }
  GzipInflater(const GzipInflater&) = delete;
  GzipInflater& operator=(const GzipInflater&) = delete;
  z_stream& stream() { return stream_; }

 private:
  z_stream stream_{};
};

std::string hex32(std::uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", value);
  return text;
}

// "uint8, 3-D" for a well-formed IDX magic, "not an IDX magic" otherwise.
std::string describe_magic(std::uint32_t magic) {
  if ((magic >> 16) != 0) return "not an IDX magic";
  static constexpr std::pair<std::uint32_t, const char*> kTypes[] = {
      {0x08, "uint8"}, {0x09, "int8"},    {0x0B, "int16"},
      {0x0C, "int32"}, {0x0D, "float32"}, {0x0E, "float64"}};
  const char* type = nullptr;
  for (const auto& [code, type_name] : kTypes) {
    if (((magic >> 8) & 0xff) == code) type = type_name;
  }
  if (type == nullptr) return "unknown IDX element type";
  return detail::concat(type, ", ", magic & 0xff, "-D");
}

std::uint32_t read_be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

std::string join_dims(const std::vector<std::uint32_t>& dims) {
  std::string text;
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (i > 0) text += 'x';
    text += std::to_string(dims[i]);
  }
  return dims.empty() ? std::string("(scalar)") : text;
}

bool has_gzip_magic(std::span<const std::uint8_t> bytes) {
  return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
}

}  // namespace

std::vector<std::uint8_t> read_gzip_file(const std::filesystem::path& path, std::size_t max_bytes) {
  const std::string name = path.string();
  const std::vector<std::uint8_t> input = read_file(path);
  if (input.empty()) fail(name, "not a gzip file (the file is empty)");
  if (!has_gzip_magic(input)) fail(name, "not a gzip file (no gzip magic 1f 8b at the start)");

  // The gzip trailer stores the uncompressed size mod 2^32: a good first guess, never trusted.
  std::size_t guess = std::size_t{1} << 16;
  if (input.size() >= 18) {
    const std::uint8_t* t = input.data() + input.size() - 4;
    const std::size_t isize = std::uint32_t{t[0]} | (std::uint32_t{t[1]} << 8) |
                              (std::uint32_t{t[2]} << 16) | (std::uint32_t{t[3]} << 24);
    // Deflate expands at most ~1032:1, so a lying trailer cannot force a giant allocation.
    const std::size_t plausible = std::min(isize, input.size() * 1032);
    guess = std::max(guess, plausible + 1);  // +1: room to see the end without another grow
  }
  // One byte beyond the limit lets "more than max_bytes" be detected.
  const std::size_t cap = max_bytes == SIZE_MAX ? max_bytes : max_bytes + 1;
  std::vector<std::uint8_t> out(std::min(guess, cap));

  GzipInflater inflater(name);
  z_stream& zs = inflater.stream();
  std::size_t in_pos = 0;  // input bytes handed to zlib so far
  std::size_t total = 0;   // output bytes produced so far
  for (;;) {
    if (total == out.size()) {
      if (out.size() >= cap) {
        fail(name, detail::concat("decompressed size exceeds the limit of ", max_bytes, " bytes"));
      }
      out.resize(std::min(cap, std::max(out.size() * 2, out.size() + 1)));
    }
    if (zs.avail_in == 0 && in_pos < input.size()) {
      const std::size_t chunk = std::min<std::size_t>(input.size() - in_pos, UINT_MAX);
      zs.next_in = const_cast<Bytef*>(input.data() + in_pos);
      zs.avail_in = static_cast<uInt>(chunk);
      in_pos += chunk;
    }
    const std::size_t room = std::min<std::size_t>(out.size() - total, UINT_MAX);
    zs.next_out = out.data() + total;
    zs.avail_out = static_cast<uInt>(room);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    total += room - zs.avail_out;
    const bool input_exhausted = in_pos == input.size() && zs.avail_in == 0;

    if (rc == Z_STREAM_END) {
      const std::size_t consumed = in_pos - zs.avail_in;
      if (consumed == input.size()) break;
      const std::span<const std::uint8_t> rest(input.data() + consumed, input.size() - consumed);
      if (!has_gzip_magic(rest)) {
        fail(name, detail::concat(rest.size(), " trailing bytes after the gzip stream"));
      }
      inflateReset(&zs);  // another member follows (as `cat a.gz b.gz` produces)
      continue;
    }
    if (rc == Z_OK || rc == Z_BUF_ERROR) {
      // zlib stops only when input or output runs out: with output room left and no input
      // left, the stream ended before its end marker and trailer.
      if (input_exhausted && zs.avail_out > 0) {
        fail(name, detail::concat("truncated gzip stream (", input.size(),
                                  " compressed bytes end before the stream does)"));
      }
      continue;
    }
    if (rc == Z_MEM_ERROR) throw Error(detail::concat(name, ": zlib out of memory"));
    fail(name, detail::concat("corrupt gzip data (", zs.msg ? zs.msg : "zlib error ", rc, ")"));
  }
  out.resize(total);
  out.shrink_to_fit();
  return out;
}

IdxHeader parse_idx_header(std::span<const std::uint8_t> bytes, std::uint32_t expected_magic,
                           std::string_view name) {
  if (bytes.size() < 4) {
    fail(name, detail::concat("truncated IDX header: ", bytes.size(),
                              " bytes, the magic number alone needs 4"));
  }
  IdxHeader header;
  header.magic = read_be32(bytes.data());
  if (header.magic != expected_magic) {
    fail(name, detail::concat("wrong IDX magic ", hex32(header.magic), " (",
                              describe_magic(header.magic), "), expected ", hex32(expected_magic),
                              " (", describe_magic(expected_magic), ")"));
  }
  const std::size_t ndims = header.magic & 0xff;
  header.data_offset = 4 + 4 * ndims;
  if (bytes.size() < header.data_offset) {
    fail(name, detail::concat("truncated IDX header: ", bytes.size(), " bytes, ", ndims,
                              " dimensions need ", header.data_offset));
  }
  std::size_t product = 1;
  bool overflow = false;
  for (std::size_t i = 0; i < ndims; ++i) {
    header.dims.push_back(read_be32(bytes.data() + 4 + 4 * i));
    overflow |= __builtin_mul_overflow(product, std::size_t{header.dims.back()}, &product);
  }
  if (overflow) {
    fail(name, detail::concat("IDX dimensions ", join_dims(header.dims),
                              " are too large: their product overflows 64 bits"));
  }
  header.data_bytes = product;
  const std::size_t have = bytes.size() - header.data_offset;
  if (have != product) {
    fail(name, detail::concat("IDX data length mismatch: dimensions ", join_dims(header.dims),
                              " need ", product, " bytes of data, the file has ", have, " (",
                              have < product ? product - have : have - product,
                              have < product ? " bytes missing)" : " extra trailing bytes)"));
  }
  return header;
}

}  // namespace rumor
