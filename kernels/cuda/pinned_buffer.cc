#include "kernels/cuda/pinned_buffer.h"

namespace rumor::cuda {
namespace {

// Creates the event with `device` current (events belong to one device).
Event event_on(int device) {
  const DeviceGuard guard(device);
  return Event();
}

}  // namespace

PinnedBuffer::PinnedBuffer(int device, std::size_t bytes)
    : device_(device), memory_(bytes), done_(event_on(device)) {}

}  // namespace rumor::cuda
