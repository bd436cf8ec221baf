// payload.cc — Buffer, BufferPool and Payload.
#include "net/payload.h"

#include <algorithm>

#include "core/error.h"

namespace rumor {

Buffer::Buffer(std::size_t capacity)
    : storage_(std::make_unique_for_overwrite<std::byte[]>(capacity == 0 ? 1 : capacity)),
      capacity_(capacity),
      size_(capacity) {}

void Buffer::resize(std::size_t size) {
  RUMOR_CHECK(size <= capacity_, "Buffer::resize to ", size, " bytes beyond capacity ", capacity_);
  size_ = size;
}

BufferPool::BufferPool(std::size_t max_cached) : state_(std::make_shared<State>()) {
  state_->max_cached = max_cached;
}

std::shared_ptr<Buffer> BufferPool::acquire(std::size_t bytes) {
  std::unique_ptr<Buffer> buffer;
  {
    std::lock_guard lock(state_->mutex);
    auto& free = state_->free;
    auto best = free.end();
    for (auto it = free.begin(); it != free.end(); ++it) {
      if ((*it)->capacity() >= bytes &&
          (best == free.end() || (*it)->capacity() < (*best)->capacity())) {
        best = it;
      }
    }
    if (best != free.end()) {
      buffer = std::move(*best);
      free.erase(best);
      ++state_->stats.reuses;
    } else {
      ++state_->stats.allocations;
    }
  }
  if (!buffer) buffer = std::make_unique<Buffer>(bytes);
  buffer->resize(bytes);
  // The deleter holds only a weak reference: a buffer released after the pool died is freed.
  std::weak_ptr<State> weak = state_;
  return std::shared_ptr<Buffer>(buffer.release(), [weak](Buffer* b) {
    if (auto state = weak.lock()) {
      release(state, b);
    } else {
      std::unique_ptr<Buffer> owned(b);
    }
  });
}

void BufferPool::release(const std::shared_ptr<State>& state, Buffer* buffer) {
  std::unique_ptr<Buffer> owned(buffer);
  std::lock_guard lock(state->mutex);
  if (state->free.size() < state->max_cached) state->free.push_back(std::move(owned));
}

BufferPool::Stats BufferPool::stats() const {
  std::lock_guard lock(state_->mutex);
  Stats s = state_->stats;
  s.cached = state_->free.size();
  return s;
}

Payload::Payload(std::shared_ptr<const Buffer> buffer) {
  if (buffer) bytes_ = buffer->bytes();
  owner_ = std::move(buffer);
}

Payload::Payload(std::shared_ptr<const void> owner, std::span<const std::byte> bytes)
    : owner_(std::move(owner)), bytes_(bytes) {}

}  // namespace rumor
