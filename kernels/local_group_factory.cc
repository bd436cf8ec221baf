// local_group_factory.cc — make_local_group(): the LocalGroup the replicas' backends need.
#include <set>

#include "core/error.h"
#include "kernels/cpu/cpu_local_group.h"
#include "kernels/local_group.h"
#include "rumor_config.h"

#if RUMOR_HAVE_NCCL
#include "kernels/nccl/nccl_local_group.h"
#endif

namespace rumor {

std::unique_ptr<LocalGroup> make_local_group(const std::vector<Backend*>& backends) {
  if (backends.empty()) throw ConfigError("local group: needs at least one replica");
  std::size_t on_host = 0;
  for (const Backend* backend : backends) on_host += backend->host_accessible() ? 1 : 0;
  if (on_host == backends.size()) {
    return std::make_unique<CpuLocalGroup>(static_cast<int>(backends.size()));
  }
  if (on_host != 0) {
    throw ConfigError("--devices: the replicas of a node must all be on the CPU or all on GPUs, "
                      "not both");
  }
  std::set<std::string> seen;
  for (const Backend* backend : backends) {
    if (!seen.insert(backend->name()).second) {
      throw ConfigError("--devices: " + backend->name() +
                        " is listed twice; give each replica its own GPU");
    }
  }
#if RUMOR_HAVE_NCCL
  std::vector<CudaBackend*> gpus;
  for (Backend* backend : backends) {
    auto* gpu = dynamic_cast<CudaBackend*>(backend);
    RUMOR_CHECK(gpu != nullptr, backend->name(), " is neither a CPU nor a CUDA backend");
    gpus.push_back(gpu);
  }
  try {
    return std::make_unique<NcclLocalGroup>(gpus);
  } catch (const Error& error) {
    // At start-up nothing is lost yet: a configuration problem to fix before starting again.
    throw ConfigError(std::string("--devices: NCCL could not join the GPUs: ") + error.what() +
                      " (check that every listed GPU is visible and free; NCCL_DEBUG=WARN "
                      "says more)");
  }
#else
  throw ConfigError("--devices: several GPUs in one node need NCCL, which this build does not "
                    "contain (rebuild with NCCL next to nvcc, or run one peer per GPU)");
#endif
}

}  // namespace rumor
