// fake_peer.h — the handlers a peer gives its HttpServer, backed by plain fields: a fixed
// status (tests/peer/sample_status.h) and faults that POST /faults replaces.
#pragma once

#include <mutex>
#include <string>

#include "core/error.h"
#include "peer/http_server.h"
#include "sample_status.h"

namespace rumor::testing {

class FakePeer {
 public:
  explicit FakePeer(bool faults_enabled) : faults_enabled_(faults_enabled) {}

  HttpHandlers handlers() {
    HttpHandlers h;
    h.status = [] { return sample_status(true, true); };
    if (faults_enabled_) {
      h.get_faults = [this] { return faults(); };
      h.set_faults = [this](const RuntimeFaults& f) {
        std::lock_guard lock(mutex_);
        if (!refusal_.empty()) throw ConfigError(refusal_);
        faults_ = f;
        ++sets_;
      };
    }
    return h;
  }

  RuntimeFaults faults() const {
    std::lock_guard lock(mutex_);
    return faults_;
  }
  void set(const RuntimeFaults& f) {
    std::lock_guard lock(mutex_);
    faults_ = f;
  }
  int sets() const {
    std::lock_guard lock(mutex_);
    return sets_;
  }
  // From now on set_faults throws ConfigError(message), as a peer does for a bad rank.
  void refuse_with(std::string message) {
    std::lock_guard lock(mutex_);
    refusal_ = std::move(message);
  }

 private:
  const bool faults_enabled_;
  mutable std::mutex mutex_;
  RuntimeFaults faults_;
  int sets_ = 0;
  std::string refusal_;
};

}  // namespace rumor::testing
