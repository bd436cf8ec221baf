// param_file.h — saving and loading a replica's parameters (the `--save` output of
// `rumor train`, read by `rumor eval`).
//
// Format (little-endian): "RUMORPRM" | u32 version (1) | u32 spec length | model spec bytes
// | u64 float count | float32 values | u64 XXH3-64 of every preceding byte. Written
// atomically (see atomic_file.h): a reader sees the old file or the new one.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace rumor {

struct ParamFile {
  std::string model;          // e.g. "784-256-128-10"
  std::vector<float> values;  // the whole parameter arena
};

// Throws rumor::Error when the file cannot be written (names the path and the reason).
void save_param_file(const std::filesystem::path& path, const ParamFile& file);

// Throws rumor::DataError naming the path and the problem (missing, wrong magic, unknown
// version, truncated, trailing bytes, checksum mismatch). Never reads out of bounds.
ParamFile load_param_file(const std::filesystem::path& path);

}  // namespace rumor
