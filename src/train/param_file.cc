#include "train/param_file.h"

#include <fcntl.h>
#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <span>

#include "core/error.h"

namespace rumor {
namespace {

constexpr char kMagic[8] = {'R', 'U', 'M', 'O', 'R', 'P', 'R', 'M'};
constexpr std::uint32_t kVersion = 1;
constexpr std::size_t kMaxSpecBytes = 4096;

template <class T>
void append(std::string& out, const T& value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(T));
}

// Reads fixed-size fields from a byte span; every read is bounds-checked.
class Reader {
 public:
  Reader(std::span<const char> bytes, const std::filesystem::path& path)
      : bytes_(bytes), path_(path) {}
  template <class T>
  T read(const char* what) {
    T value;
    std::memcpy(&value, take(sizeof(T), what).data(), sizeof(T));
    return value;
  }
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

 private:
  std::span<const char> bytes_;
  const std::filesystem::path& path_;
  std::size_t pos_ = 0;
};

void write_all(int fd, const std::string& data, const std::filesystem::path& path) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(path.string() + ": write failed: " + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

void save_param_file(const std::filesystem::path& path, const ParamFile& file) {
  RUMOR_CHECK(file.model.size() <= kMaxSpecBytes, "model spec too long");
  std::string data;
  data.reserve(64 + file.model.size() + file.values.size() * sizeof(float));
  data.append(kMagic, sizeof(kMagic));
  append(data, kVersion);
  append(data, static_cast<std::uint32_t>(file.model.size()));
  data.append(file.model);
  append(data, static_cast<std::uint64_t>(file.values.size()));
  data.append(reinterpret_cast<const char*>(file.values.data()),
              file.values.size() * sizeof(float));
  append(data, static_cast<std::uint64_t>(XXH3_64bits(data.data(), data.size())));

  std::filesystem::path tmp = path;
  tmp += ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(tmp.string() + ": cannot create: " + std::strerror(errno));
  try {
    write_all(fd, data, tmp);
    if (::fsync(fd) != 0) throw Error(tmp.string() + ": fsync failed: " + std::strerror(errno));
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw Error(path.string() + ": cannot rename into place: " + reason);
  }
}

ParamFile load_param_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path.string() + ": cannot open parameter file");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Reader reader(bytes, path);

  const auto magic = reader.take(sizeof(kMagic), "magic");
  if (std::memcmp(magic.data(), kMagic, sizeof(kMagic)) != 0) {
    throw DataError(path.string() + ": not a rumor parameter file (bad magic)");
  }
  const auto version = reader.read<std::uint32_t>("version");
  if (version != kVersion) {
    throw DataError(path.string() + ": unsupported parameter file version " +
                    std::to_string(version) + " (this build reads version " +
                    std::to_string(kVersion) + ")");
  }
  const auto spec_size = reader.read<std::uint32_t>("model spec length");
  if (spec_size > kMaxSpecBytes) {
    throw DataError(path.string() + ": model spec length " + std::to_string(spec_size) +
                    " exceeds " + std::to_string(kMaxSpecBytes));
  }
  const auto spec = reader.take(spec_size, "model spec");
  ParamFile file;
  file.model.assign(spec.data(), spec.size());
  const auto count = reader.read<std::uint64_t>("value count");
  if (count > (bytes.size() - reader.pos()) / sizeof(float)) {
    throw DataError(path.string() + ": truncated: header says " + std::to_string(count) +
                    " values, file is " + std::to_string(bytes.size()) + " bytes");
  }
  const auto values = reader.take(count * sizeof(float), "values");
  const std::size_t checked = reader.pos();
  const auto checksum = reader.read<std::uint64_t>("checksum");
  if (reader.pos() != bytes.size()) {
    throw DataError(path.string() + ": " + std::to_string(bytes.size() - reader.pos()) +
                    " unexpected bytes after the checksum");
  }
  if (checksum != XXH3_64bits(bytes.data(), checked)) {
    throw DataError(path.string() + ": checksum mismatch (file is corrupt)");
  }
  file.values.resize(count);
  std::memcpy(file.values.data(), values.data(), values.size());
  return file;
}

}  // namespace rumor
