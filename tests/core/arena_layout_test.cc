#include "core/arena_layout.h"

#include <gtest/gtest.h>

namespace rumor {
namespace {

TEST(ArenaLayout, SlotsAreAlignedAndDoNotOverlap) {
  ArenaLayout layout;
  layout.add("a", 3, 5);
  layout.add("b", 1, 7);
  layout.add("c", 2, 2);
  ASSERT_EQ(layout.slots().size(), 3u);
  std::size_t end = 0;
  for (const auto& slot : layout.slots()) {
    EXPECT_EQ(slot.offset % 16, 0u) << slot.name;
    EXPECT_GE(slot.offset, end) << slot.name;
    end = slot.offset + slot.size();
  }
  EXPECT_EQ(layout.total(), end);
  EXPECT_EQ(layout.slot(1).name, "b");
  EXPECT_EQ(layout.slot(1).size(), 7u);
}

TEST(ArenaLayout, EmptyLayoutHasNoFloats) {
  ArenaLayout layout;
  EXPECT_EQ(layout.total(), 0u);
  EXPECT_THROW(layout.slot(0), std::out_of_range);
}

}  // namespace
}  // namespace rumor
