#include "train/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "core/error.h"

namespace rumor {
namespace {

constexpr std::string_view kTemporaryInfix = ".tmp.";

// Closes a file descriptor when it goes out of scope.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  // Closes now, reporting failure (a delayed write error can surface here).
  bool close() {
    const int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0;
  }

 private:
  int fd_;
};

Error system_error(const std::filesystem::path& path, const char* what) {
  return Error(path.string() + ": " + what + ": " + std::strerror(errno));
}

void write_all(int fd, std::string_view data, const std::filesystem::path& path) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw system_error(path, "write failed");
    done += static_cast<std::size_t>(n);
  }
}

void write_and_sync(const std::filesystem::path& tmp, std::string_view bytes) {
  FileDescriptor fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.get() < 0) throw system_error(tmp, "cannot create");
  write_all(fd.get(), bytes, tmp);
  if (::fsync(fd.get()) != 0) throw system_error(tmp, "fsync failed");
  if (!fd.close()) throw system_error(tmp, "close failed");
}

void sync_directory(const std::filesystem::path& dir) {
  FileDescriptor fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) throw system_error(dir, "cannot open folder to fsync it");
  // Some file systems cannot fsync a folder (EINVAL); the rename is then as durable as they
  // make it.
  if (::fsync(fd.get()) != 0 && errno != EINVAL) throw system_error(dir, "folder fsync failed");
}

}  // namespace

std::filesystem::path temporary_path_for(const std::filesystem::path& path) {
  std::filesystem::path tmp = path;
  tmp += std::string(kTemporaryInfix) + std::to_string(::getpid());
  return tmp;
}

bool is_temporary_file(const std::filesystem::path& path, std::string_view target_name) {
  const std::string name = path.filename().string();
  const std::size_t prefix = target_name.size() + kTemporaryInfix.size();
  if (name.size() <= prefix || !name.starts_with(target_name) ||
      name.compare(target_name.size(), kTemporaryInfix.size(), kTemporaryInfix) != 0) {
    return false;
  }
  return std::all_of(name.begin() + static_cast<std::ptrdiff_t>(prefix), name.end(),
                     [](unsigned char c) { return std::isdigit(c) != 0; });
}

void write_file_atomically(const std::filesystem::path& path, std::string_view bytes) {
  const std::filesystem::path tmp = temporary_path_for(path);
  try {
    write_and_sync(tmp, bytes);
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const Error error = system_error(path, "cannot rename into place");
    ::unlink(tmp.c_str());
    throw error;
  }
  sync_directory(path.has_parent_path() ? path.parent_path() : std::filesystem::path("."));
}

std::string read_whole_file(const std::filesystem::path& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path.string() + ": cannot open " + std::string(what));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw DataError(path.string() + ": read error in " + std::string(what));
  return bytes;
}

}  // namespace rumor
