// byte_reader.h — bounds-checked reads of fixed-size fields from a file's bytes, for the
// binary file loaders (parameter files, checkpoints). Every read past the end throws a
// rumor::DataError naming the file, the field, the offset and the file size.
#pragma once

#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <type_traits>

#include "core/error.h"

namespace rumor {

class ByteReader {
 public:
  // `bytes` and `path` must outlive the reader.
  ByteReader(std::span<const char> bytes, const std::filesystem::path& path)
      : bytes_(bytes), path_(path) {}

  // The next sizeof(T) bytes as a T (host byte order; the files are little-endian).
  template <class T>
  T read(const char* what) {
    static_assert(std::is_trivially_copyable_v<T>);
    T value;
    std::memcpy(&value, take(sizeof(T), what).data(), sizeof(T));
    return value;
  }

  // The next n bytes.
  std::span<const char> take(std::size_t n, const char* what) {
    if (n > bytes_.size() - pos_) {
      throw DataError(path_.string() + ": truncated: " + what + " needs " + std::to_string(n) +
                      " bytes at offset " + std::to_string(pos_) + ", file has " +
                      std::to_string(bytes_.size()));
    }
    auto part = bytes_.subspan(pos_, n);
    pos_ += n;
    return part;
  }

  std::size_t pos() const { return pos_; }
  std::size_t remaining() const { return bytes_.size() - pos_; }

 private:
  std::span<const char> bytes_;
  const std::filesystem::path& path_;
  std::size_t pos_ = 0;
};

}  // namespace rumor
