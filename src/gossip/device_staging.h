// device_staging.h — puts host floats where a backend can compute on them: on a backend
// whose memory is host memory it passes the pointer through; otherwise it copies into a
// reusable device scratch array.
#pragma once

#include <span>

#include "kernels/backend.h"

namespace rumor {

class DeviceStaging {
 public:
  // Returns a backend pointer holding `host` (valid until the next call).
  const float* stage(Backend& backend, std::span<const float> host) {
    if (backend.host_accessible()) return host.data();
    if (scratch_.size() != host.size()) scratch_ = DeviceArray<float>(backend, host.size());
    scratch_.upload(host);
    return scratch_.data();
  }

 private:
  DeviceArray<float> scratch_;
};

}  // namespace rumor
