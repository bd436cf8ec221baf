// backend_factory.cc — make_backend(): parses a device string and builds the backend.
#include <charconv>
#include <string_view>

#include "core/error.h"
#include "kernels/backend.h"
#include "kernels/cpu/cpu_backend.h"
#include "rumor_config.h"

#if RUMOR_HAVE_CUDA
#include "kernels/cuda/cuda_backend.h"
#endif

namespace rumor {
namespace {

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

}  // namespace

std::vector<std::string> available_devices() {
  std::vector<std::string> devices{"cpu"};
#if RUMOR_HAVE_CUDA
  for (int i = 0; i < cuda_device_count(); ++i) devices.push_back("cuda:" + std::to_string(i));
#endif
  return devices;
}

std::unique_ptr<Backend> make_backend(const std::string& device, int threads) {
  if (device == "cpu") return std::make_unique<CpuBackend>(threads);
  const std::string_view prefix = "cuda:";
  if (device.starts_with(prefix)) {
    int index = -1;
    const char* first = device.data() + prefix.size();
    const char* last = device.data() + device.size();
    const auto [end, ec] = std::from_chars(first, last, index);
    if (ec != std::errc{} || end != last || index < 0) {
      throw ConfigError("device '" + device + "' is not valid: use cpu or cuda:N");
    }
#if RUMOR_HAVE_CUDA
    if (index < cuda_device_count()) return make_cuda_backend(index);
    throw ConfigError("device '" + device + "' is not present; available: " +
                      joined(available_devices()));
#else
    throw ConfigError("device '" + device +
                      "' needs the CUDA backend, which this build does not contain (rebuild "
                      "with nvcc installed); available: " + joined(available_devices()));
#endif
  }
  throw ConfigError("device '" + device + "' is not valid: use cpu or cuda:N; available: " +
                    joined(available_devices()));
}

}  // namespace rumor
