// payload.h — message payload bytes: pooled, reference-counted, immutable once shared.
//
// A 40 MB payload allocated fresh for every message costs page faults that halve loopback
// throughput (FACTS.md), so senders take buffers from a BufferPool and the buffer goes back to
// the pool when the last reference drops — which, for a zero-copy send, happens on libzmq's I/O
// thread after the bytes are on the wire. A Payload is a read-only view plus a reference that
// keeps its bytes alive: a pooled buffer on the sending side, the received ZeroMQ frame on the
// receiving side (no copy either way).
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

namespace rumor {

// A writable byte buffer of fixed capacity; size() is what the current user asked for.
// Contents are uninitialised when it comes from acquire() (no page is touched needlessly).
class Buffer {
 public:
  explicit Buffer(std::size_t capacity);
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  std::byte* data() { return storage_.get(); }
  const std::byte* data() const { return storage_.get(); }
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return capacity_; }
  std::span<std::byte> bytes() { return {data(), size_}; }
  std::span<const std::byte> bytes() const { return {data(), size_}; }
  // Sets the used size (≤ capacity, checked).
  void resize(std::size_t size);

 private:
  std::unique_ptr<std::byte[]> storage_;
  std::size_t capacity_;
  std::size_t size_;
};

// Thread-safe pool of Buffers. acquire() reuses the smallest cached buffer that fits, else
// allocates; a released buffer is cached if fewer than max_cached are cached, else freed.
// Buffers may outlive the pool (they are then simply freed).
class BufferPool {
 public:
  explicit BufferPool(std::size_t max_cached = 8);
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  // A buffer with size() == bytes. Never blocks on anything but the pool's mutex.
  std::shared_ptr<Buffer> acquire(std::size_t bytes);

  struct Stats {
    std::size_t allocations = 0;  // buffers created
    std::size_t reuses = 0;       // acquires served from the cache
    std::size_t cached = 0;       // buffers in the cache now
  };
  Stats stats() const;

 private:
  struct State {
    std::mutex mutex;
    std::vector<std::unique_ptr<Buffer>> free;
    std::size_t max_cached;
    Stats stats;
  };
  static void release(const std::shared_ptr<State>& state, Buffer* buffer);

  std::shared_ptr<State> state_;
};

// Read-only payload bytes and whatever keeps them alive. Cheap to copy (shares ownership).
class Payload {
 public:
  Payload() = default;
  // Shares a buffer's used bytes; the buffer must not be written after this.
  explicit Payload(std::shared_ptr<const Buffer> buffer);
  // Views `bytes` kept alive by `owner` (may be null when the caller guarantees lifetime).
  Payload(std::shared_ptr<const void> owner, std::span<const std::byte> bytes);

  std::span<const std::byte> bytes() const { return bytes_; }
  const std::byte* data() const { return bytes_.data(); }
  std::size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }
  const std::shared_ptr<const void>& owner() const { return owner_; }

 private:
  std::shared_ptr<const void> owner_;
  std::span<const std::byte> bytes_;
};

}  // namespace rumor
