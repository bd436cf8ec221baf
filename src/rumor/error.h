// rumor/error.h — the exceptions the C++ API throws. Installed as <rumor/error.h>.
//
// The library reports problems by throwing one of these and never exits; the program decides
// what to do (the `rumor` program maps ConfigError to exit code 2). Messages say what was
// expected and what was seen. The C ABI (rumor/rumor.h) turns them into status codes.
#pragma once

#include <stdexcept>

namespace rumor {

// A broken invariant or a failed system call: a bug or a broken environment.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bad configuration (a flag, a config key, a value, a device name): fix it and start again.
class ConfigError : public Error {
 public:
  using Error::Error;
};

// A malformed or unreadable input file (dataset, parameters, checkpoint).
class DataError : public Error {
 public:
  using Error::Error;
};

}  // namespace rumor
