// cpu_local_group.h — LocalGroup over threads of one process sharing host memory.
//
// Each operation: every member publishes its pointer and waits for the others (a barrier);
// then member m reduces (or copies) its own slice [m·n/K, (m+1)·n/K) of every member's buffer,
// so the K threads share the work and no two touch the same elements; a second barrier ends
// the operation. The mean is summed in member order 0..K−1 and the one result is written to
// every buffer, so all members hold the same bits.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/abortable_barrier.h"
#include "kernels/local_group.h"

namespace rumor {

class CpuLocalGroup final : public LocalGroup {
 public:
  // size >= 1 members. Throws ConfigError otherwise.
  explicit CpuLocalGroup(int size);

  int size() const override { return size_; }
  std::string kind() const override { return "cpu threads"; }
  void all_reduce_mean(int member, float* data, std::size_t n) override;
  void broadcast(int member, float* data, std::size_t n, int root) override;
  void abort(const std::string& reason) noexcept override;

 private:
  // Publishes this member's buffer and waits until every member has (first barrier). Throws
  // LocalGroupAborted, or Error when the members disagree on n (every member throws then).
  void gather(int member, float* data, std::size_t n);
  // Member `member`'s share [first, last) of n elements.
  std::pair<std::size_t, std::size_t> slice(int member, std::size_t n) const;

  const int size_;
  std::vector<float*> buffers_;
  std::vector<std::size_t> counts_;
  AbortableBarrier barrier_;
};

}  // namespace rumor
