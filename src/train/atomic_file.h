// atomic_file.h — whole-file reads and crash-safe whole-file writes, shared by the parameter
// and checkpoint files.
//
// write_file_atomically: the bytes go to a temporary file in the same folder (named
// `<path>.tmp.<pid>`), which is fsync'ed, renamed over `path` and the folder fsync'ed. rename()
// within one folder is atomic, so a reader (or a process started after a crash) sees either
// the previous file or the complete new one, never a mix; after the call returns the new file
// survives a power loss. A crash can leave the temporary file behind: readers ignore names
// with the temporary suffix (is_temporary_file) and may delete them.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace rumor {

// Blocks until the data and the rename are on disk. Throws rumor::Error naming the path and
// the failed step (create, write, fsync, rename); the temporary file is removed on failure.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes);

// The name write_file_atomically uses for `path`'s temporary file in this process.
std::filesystem::path temporary_path_for(const std::filesystem::path& path);

// True for a name of the form `<target>.tmp.<digits>` (a temporary file of `target`).
bool is_temporary_file(const std::filesystem::path& path, std::string_view target_name);

// The whole file. Throws rumor::DataError("<path>: cannot open <what>") when it cannot be
// read, e.g. read_whole_file(p, "checkpoint").
std::string read_whole_file(const std::filesystem::path& path, std::string_view what);

}  // namespace rumor
