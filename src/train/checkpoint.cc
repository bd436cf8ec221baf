#include "train/checkpoint.h"

#include <xxhash.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <span>

#include "core/error.h"
#include "train/atomic_file.h"
#include "train/byte_reader.h"

namespace rumor {
namespace {

constexpr char kMagic[8] = {'R', 'U', 'M', 'O', 'R', 'C', 'K', 'P'};
constexpr std::size_t kMaxSpecBytes = 4096;

template <class T>
void append(std::string& out, const T& value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(T));
}

void append_floats(std::string& out, const std::vector<float>& values) {
  out.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
}

// The reason `c` is not a consistent checkpoint, or empty when it is.
std::string inconsistency(const Checkpoint& c) {
  const auto field = [](const char* name, auto value, const char* expected) {
    return std::string(name) + " is " + std::to_string(value) + ", expected " + expected;
  };
  if (c.model.empty() || c.model.size() > kMaxSpecBytes) {
    return "model spec length " + std::to_string(c.model.size()) + " is not in 1..4096";
  }
  if (c.rank < 0) return field("rank", c.rank, ">= 0");
  if (c.batch < 1) return field("batch", c.batch, ">= 1");
  if (c.step < 0 || c.step > c.total_steps) {
    return field("step", c.step, ("0.." + std::to_string(c.total_steps) + " (total steps)").c_str());
  }
  if (c.epoch < 0 || c.epoch > c.step) return field("epoch", c.epoch, "0..step");
  if (c.loss_steps < 0 || c.loss_steps > c.step) {
    return field("loss_steps", c.loss_steps, "0..step");
  }
  if (!std::isfinite(c.train_seconds) || c.train_seconds < 0) {
    return field("train_seconds", c.train_seconds, "finite and >= 0");
  }
  if (c.velocity.size() != c.params.size()) {
    return field("velocity count", c.velocity.size(),
                 ("the parameter count " + std::to_string(c.params.size())).c_str());
  }
  if (c.loss_sums.size() != static_cast<std::size_t>(c.batch)) {
    return field("loss-sum count", c.loss_sums.size(), "the batch size");
  }
  return {};
}

// Reads `count` floats, after checking they fit in the rest of the file (so a huge count
// read from a damaged header is reported, not allocated).
std::vector<float> read_floats(ByteReader& reader, std::uint64_t count, const char* what,
                               const std::filesystem::path& path) {
  if (count > reader.remaining() / sizeof(float)) {
    throw DataError(path.string() + ": truncated: header says " + std::to_string(count) + " " +
                    what + " values, only " + std::to_string(reader.remaining()) +
                    " bytes remain");
  }
  const auto bytes = reader.take(count * sizeof(float), what);
  std::vector<float> values(count);
  std::memcpy(values.data(), bytes.data(), bytes.size());
  return values;
}

}  // namespace

std::string encode_checkpoint(const Checkpoint& c) {
  const std::string problem = inconsistency(c);
  RUMOR_CHECK(problem.empty(), "refusing to encode an inconsistent checkpoint: ", problem);
  std::string data;
  data.reserve(112 + c.model.size() +
               sizeof(float) * (c.params.size() + c.velocity.size() + c.loss_sums.size()));
  data.append(kMagic, sizeof(kMagic));
  append(data, kCheckpointVersion);
  append(data, static_cast<std::uint32_t>(c.model.size()));
  append(data, static_cast<std::int32_t>(c.rank));
  append(data, static_cast<std::int32_t>(c.batch));
  append(data, c.epoch);
  append(data, c.step);
  append(data, c.seed);
  append(data, c.train_examples);
  append(data, c.total_steps);
  append(data, c.train_seconds);
  append(data, c.loss_steps);
  append(data, static_cast<std::uint64_t>(c.params.size()));
  append(data, static_cast<std::uint64_t>(c.velocity.size()));
  append(data, static_cast<std::uint64_t>(c.loss_sums.size()));
  data.append(c.model);
  append_floats(data, c.params);
  append_floats(data, c.velocity);
  append_floats(data, c.loss_sums);
  append(data, static_cast<std::uint64_t>(XXH3_64bits(data.data(), data.size())));
  return data;
}

void save_checkpoint(const std::filesystem::path& path, const Checkpoint& checkpoint) {
  write_file_atomically(path, encode_checkpoint(checkpoint));
}

Checkpoint load_checkpoint(const std::filesystem::path& path) {
  return decode_checkpoint(read_whole_file(path, "checkpoint"), path);
}

Checkpoint decode_checkpoint(std::string_view bytes, const std::filesystem::path& source) {
  const std::string name = source.string();
  ByteReader reader(bytes, source);

  const auto magic = reader.take(sizeof(kMagic), "magic");
  if (std::memcmp(magic.data(), kMagic, sizeof(kMagic)) != 0) {
    throw DataError(name + ": not a rumor checkpoint (bad magic)");
  }
  const auto version = reader.read<std::uint32_t>("version");
  if (version != kCheckpointVersion) {
    throw DataError(name + ": unsupported checkpoint version " + std::to_string(version) +
                    " (this build reads version " + std::to_string(kCheckpointVersion) + ")");
  }
  const auto spec_size = reader.read<std::uint32_t>("model spec length");
  if (spec_size > kMaxSpecBytes) {
    throw DataError(name + ": model spec length " + std::to_string(spec_size) + " exceeds " +
                    std::to_string(kMaxSpecBytes));
  }
  Checkpoint c;
  c.rank = reader.read<std::int32_t>("rank");
  c.batch = reader.read<std::int32_t>("batch");
  c.epoch = reader.read<std::int64_t>("epoch");
  c.step = reader.read<std::int64_t>("step");
  c.seed = reader.read<std::uint64_t>("seed");
  c.train_examples = reader.read<std::uint64_t>("train_examples");
  c.total_steps = reader.read<std::int64_t>("total_steps");
  c.train_seconds = reader.read<double>("train_seconds");
  c.loss_steps = reader.read<std::int64_t>("loss_steps");
  const auto params = reader.read<std::uint64_t>("parameter count");
  const auto velocity = reader.read<std::uint64_t>("velocity count");
  const auto loss_sums = reader.read<std::uint64_t>("loss-sum count");
  const auto spec = reader.take(spec_size, "model spec");
  c.model.assign(spec.data(), spec.size());
  c.params = read_floats(reader, params, "parameter", source);
  c.velocity = read_floats(reader, velocity, "velocity", source);
  c.loss_sums = read_floats(reader, loss_sums, "loss-sum", source);
  const std::size_t checked = reader.pos();
  const auto checksum = reader.read<std::uint64_t>("checksum");
  if (reader.remaining() != 0) {
    throw DataError(name + ": " + std::to_string(reader.remaining()) +
                    " unexpected bytes after the checksum");
  }
  if (checksum != XXH3_64bits(bytes.data(), checked)) {
    throw DataError(name + ": checksum mismatch (file is corrupt)");
  }
  if (const std::string problem = inconsistency(c); !problem.empty()) {
    throw DataError(name + ": inconsistent checkpoint: " + problem);
  }
  return c;
}

bool has_checkpoint_magic(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[sizeof(kMagic)] = {};
  in.read(magic, sizeof(magic));
  return in.gcount() == sizeof(magic) && std::memcmp(magic, kMagic, sizeof(kMagic)) == 0;
}

}  // namespace rumor
