// payload_test.cc — the buffer pool reuses buffers, and buffers outlive the pool safely.
#include "net/payload.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace rumor {
namespace {

TEST(BufferPool, ReusesAReleasedBuffer) {
  BufferPool pool;
  const std::byte* first = nullptr;
  {
    auto buffer = pool.acquire(1000);
    first = buffer->data();
  }
  auto again = pool.acquire(800);  // fits in the cached 1000-byte buffer
  EXPECT_EQ(again->data(), first);
  EXPECT_EQ(again->size(), 800u);
  EXPECT_EQ(pool.stats().allocations, 1u);
  EXPECT_EQ(pool.stats().reuses, 1u);
}

TEST(BufferPool, PicksTheSmallestBufferThatFits) {
  BufferPool pool;
  { auto a = pool.acquire(100), b = pool.acquire(10000); }
  EXPECT_EQ(pool.acquire(50)->capacity(), 100u);
}

TEST(BufferPool, CachesAtMostMaxCached) {
  BufferPool pool(2);
  { auto a = pool.acquire(1), b = pool.acquire(1), c = pool.acquire(1); }
  EXPECT_EQ(pool.stats().cached, 2u);
}

TEST(BufferPool, BufferMayOutliveThePool) {
  std::shared_ptr<Buffer> survivor;
  {
    BufferPool pool;
    survivor = pool.acquire(64);
  }
  survivor->data()[0] = std::byte{1};  // still valid; freed when released (ASan would see)
  survivor.reset();
}

TEST(Payload, KeepsItsBufferAlive) {
  BufferPool pool;
  Payload payload;
  {
    auto buffer = pool.acquire(4);
    buffer->data()[0] = std::byte{7};
    payload = Payload(std::shared_ptr<const Buffer>(buffer));
  }
  EXPECT_EQ(pool.stats().cached, 0u);  // still referenced by the payload
  EXPECT_EQ(payload.bytes()[0], std::byte{7});
  payload = Payload();
  EXPECT_EQ(pool.stats().cached, 1u);
}

TEST(Buffer, ResizeBeyondCapacityIsABug) {
  Buffer buffer(8);
  EXPECT_THROW(buffer.resize(9), Error);
}

}  // namespace
}  // namespace rumor
