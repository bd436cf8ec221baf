// rumor/device.h — the compute device a GossipEngine mixes on: "cpu" or "cuda:N". Installed as
// <rumor/device.h>, so that a program built against the installed headers can get the
// Backend the engine takes without seeing the library's kernels.
//
//   rumor::Device device("cpu");                       // or "cuda:0"
//   rumor::GossipEngine engine(config, endpoints, rank, device.backend(), params, count);
//
// On "cuda:N", `params` is device memory (cudaMalloc) and the engine's copies and mixing run
// on the device's own stream. Finish your own work on the parameters (synchronize your
// stream) before publish(), and call device.synchronize() after mix() before reading or
// updating them from another stream. On "cpu" both are no-ops.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace rumor {

class Backend;  // the library's compute interface; programs only hand it to GossipEngine

class Device {
 public:
  // Opens "cpu" or "cuda:N". `threads`: CPU threads for mixing (0 = all cores; ignored on
  // CUDA); "cpu" also sets OpenBLAS's thread count, which is process-wide. Throws ConfigError,
  // naming the available devices, for any other name or an absent GPU.
  explicit Device(const std::string& name, int threads = 1);
  ~Device();
  Device(Device&&) noexcept;
  Device& operator=(Device&&) noexcept;
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  // "cpu" or "cuda:N".
  std::string name() const;
  // True when the parameters live in host memory ("cpu"); false for device memory (CUDA).
  bool host_memory() const;
  // Blocks until all work the engine issued on this device has completed.
  void synchronize();
  // What GossipEngine takes. It must outlive the engine.
  Backend& backend() { return *backend_; }

 private:
  std::unique_ptr<Backend> backend_;
};

// The devices this build and machine can run on, e.g. {"cpu", "cuda:0"}.
std::vector<std::string> available_devices();

}  // namespace rumor
