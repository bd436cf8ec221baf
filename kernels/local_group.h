// local_group.h — collective operations among the replicas of one node: the intra-node half of
// hierarchical training (replicas in lock-step inside a node, gossip between nodes).
//
// A LocalGroup joins `size()` members, one per replica, each driven by its own thread with its
// own Backend. Every member calls the same operations in the same order with the same element
// count, passing a pointer into its own backend's memory; a call returns when that member's
// share is done (CPU) or enqueued on its backend's compute stream, ordered with the backend's
// other work (NCCL). Every member ends an operation holding the same bits.
//
// Two implementations: CpuLocalGroup (kernels/cpu: threads and shared memory) and
// NcclLocalGroup (kernels/nccl: one communicator, one GPU per member). make_local_group picks
// the one the backends need.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/abortable_barrier.h"
#include "kernels/backend.h"

namespace rumor {

// Thrown by a member's call once the group was aborted (by any member), instead of waiting for
// members that will never come. what() says why the group was aborted.
using LocalGroupAborted = BarrierAborted;

class LocalGroup {
 public:
  virtual ~LocalGroup() = default;

  virtual int size() const = 0;
  // "cpu threads" or "nccl", for messages and benchmark tables.
  virtual std::string kind() const = 0;

  // data[0..n) ← the element-wise mean of every member's data[0..n).
  virtual void all_reduce_mean(int member, float* data, std::size_t n) = 0;
  // data[0..n) ← root's data[0..n) (root's data is read, not written).
  virtual void broadcast(int member, float* data, std::size_t n, int root) = 0;

  // Makes every call of every member that is waiting, or comes later, throw LocalGroupAborted
  // carrying `reason`. For a member that failed, so that the others do not wait for it
  // forever. Any thread may call it, any number of times (the first reason is kept).
  virtual void abort(const std::string& reason) noexcept = 0;
};

// A group joining one member per backend, members numbered as `backends`: a CpuLocalGroup when
// every backend is host-accessible, an NcclLocalGroup when every backend is a distinct CUDA
// device. Throws ConfigError naming the problem otherwise (mixed devices, a device listed
// twice, a build without NCCL, NCCL failing to set up the communicator).
std::unique_ptr<LocalGroup> make_local_group(const std::vector<Backend*>& backends);

}  // namespace rumor
