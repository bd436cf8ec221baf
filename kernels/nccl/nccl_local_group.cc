#include "kernels/nccl/nccl_local_group.h"

#include "core/error.h"
#include "kernels/cuda/cuda_handles.h"

namespace rumor {
namespace {

[[noreturn]] void throw_nccl(ncclResult_t result, const char* call, ncclComm_t comm) {
  const char* last = comm != nullptr ? ncclGetLastError(comm) : nullptr;
  throw Error(detail::concat("NCCL call ", call, " failed: ", ncclGetErrorString(result),
                             last != nullptr && *last != '\0' ? std::string(" (") + last + ")"
                                                              : std::string()));
}

}  // namespace

std::string nccl_version() {
  int version = 0;
  if (ncclGetVersion(&version) != ncclSuccess) return "unknown";
  // NCCL_VERSION(X,Y,Z) = X*10000 + Y*100 + Z since 2.9.
  return std::to_string(version / 10000) + "." + std::to_string(version / 100 % 100) + "." +
         std::to_string(version % 100);
}

NcclLocalGroup::NcclLocalGroup(const std::vector<CudaBackend*>& backends)
    : backends_(backends), comms_(backends.size(), nullptr) {
  RUMOR_CHECK(!backends.empty(), "an NCCL group needs at least one GPU");
  std::vector<int> devices;
  for (const CudaBackend* backend : backends) devices.push_back(backend->device());
  const ncclResult_t result =
      ncclCommInitAll(comms_.data(), static_cast<int>(devices.size()), devices.data());
  if (result != ncclSuccess) throw_nccl(result, "ncclCommInitAll", nullptr);
}

NcclLocalGroup::~NcclLocalGroup() {
  if (aborted_.load()) return;  // abort() already freed them
  for (std::size_t m = 0; m < comms_.size(); ++m) {
    const cuda::DeviceGuard guard(backends_[m]->device());
    (void)ncclCommDestroy(comms_[m]);
  }
}

void NcclLocalGroup::abort(const std::string& reason) noexcept {
  const std::lock_guard lock(abort_mutex_);
  if (aborted_.exchange(true)) return;
  abort_reason_ = reason;
  for (ncclComm_t comm : comms_) (void)ncclCommAbort(comm);
}

void NcclLocalGroup::check_usable(int member) const {
  RUMOR_CHECK(member >= 0 && member < size(), "member ", member, " of a group of ", size());
  if (aborted_.load()) {
    const std::lock_guard lock(abort_mutex_);
    throw LocalGroupAborted("local group aborted: " + abort_reason_);
  }
}

void NcclLocalGroup::check(int member, ncclResult_t result, const char* call) const {
  ncclComm_t comm = comms_[member];
  if (result != ncclSuccess && result != ncclInProgress) throw_nccl(result, call, comm);
  ncclResult_t state = ncclSuccess;
  if (ncclCommGetAsyncError(comm, &state) == ncclSuccess && state != ncclSuccess &&
      state != ncclInProgress) {
    throw_nccl(state, call, comm);
  }
}

void NcclLocalGroup::all_reduce_mean(int member, float* data, std::size_t n) {
  check_usable(member);
  CudaBackend& backend = *backends_[member];
  const cuda::DeviceGuard guard(backend.device());
  check(member,
        ncclAllReduce(data, data, n, ncclFloat, ncclAvg, comms_[member], backend.compute_stream()),
        "ncclAllReduce");
}

void NcclLocalGroup::broadcast(int member, float* data, std::size_t n, int root) {
  check_usable(member);
  RUMOR_CHECK(root >= 0 && root < size(), "broadcast root ", root, " of a group of ", size());
  CudaBackend& backend = *backends_[member];
  const cuda::DeviceGuard guard(backend.device());
  check(member,
        ncclBroadcast(data, data, n, ncclFloat, root, comms_[member], backend.compute_stream()),
        "ncclBroadcast");
}

}  // namespace rumor
