// nccl_local_group.h — LocalGroup over the GPUs of one node through NCCL: one communicator
// clique made by ncclCommInitAll, one member per GPU, each driven by its own thread.
//
// Operations are enqueued on the member's CudaBackend compute stream, so they are ordered with
// its training work and return without waiting for the GPU. NCCL errors (the call's result, or
// the communicator's asynchronous error) throw rumor::Error naming the NCCL call.
#pragma once

#include <nccl.h>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "kernels/cuda/cuda_backend.h"
#include "kernels/local_group.h"

namespace rumor {

class NcclLocalGroup final : public LocalGroup {
 public:
  // One member per backend, on distinct devices (the caller checks; NCCL would fail).
  explicit NcclLocalGroup(const std::vector<CudaBackend*>& backends);
  ~NcclLocalGroup() override;
  NcclLocalGroup(const NcclLocalGroup&) = delete;
  NcclLocalGroup& operator=(const NcclLocalGroup&) = delete;

  int size() const override { return static_cast<int>(backends_.size()); }
  std::string kind() const override { return "nccl"; }
  void all_reduce_mean(int member, float* data, std::size_t n) override;
  void broadcast(int member, float* data, std::size_t n, int root) override;
  // Also aborts every communicator (ncclCommAbort), which ends kernels stuck waiting for a
  // member that failed.
  void abort(const std::string& reason) noexcept override;

 private:
  // Throws LocalGroupAborted when aborted; otherwise makes the member's device current.
  void check_usable(int member) const;
  // Throws rumor::Error for a failed call or a communicator in an error state.
  void check(int member, ncclResult_t result, const char* call) const;

  std::vector<CudaBackend*> backends_;
  std::vector<ncclComm_t> comms_;
  std::atomic<bool> aborted_{false};
  mutable std::mutex abort_mutex_;
  std::string abort_reason_;
};

// NCCL's version, e.g. "2.28.9", for start-up lines and benchmark tables.
std::string nccl_version();

}  // namespace rumor
