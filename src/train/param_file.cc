#include "train/param_file.h"

#include <xxhash.h>

#include <cstdint>
#include <cstring>

#include "core/error.h"
#include "train/atomic_file.h"
#include "train/byte_reader.h"

namespace rumor {
namespace {

constexpr char kMagic[8] = {'R', 'U', 'M', 'O', 'R', 'P', 'R', 'M'};
constexpr std::uint32_t kVersion = 1;
constexpr std::size_t kMaxSpecBytes = 4096;

template <class T>
void append(std::string& out, const T& value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(T));
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

  write_file_atomically(path, data);
}

ParamFile load_param_file(const std::filesystem::path& path) {
  const std::string bytes = read_whole_file(path, "parameter file");
  ByteReader reader(bytes, path);

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
