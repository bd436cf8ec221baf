#include "core/arena_layout.h"

#include <utility>

namespace rumor {

std::size_t ArenaLayout::add(std::string name, std::size_t rows, std::size_t cols) {
  const std::size_t offset = (total_ + kAlignFloats - 1) / kAlignFloats * kAlignFloats;
  slots_.push_back(TensorSlot{std::move(name), offset, rows, cols});
  total_ = offset + rows * cols;
  return slots_.size() - 1;
}

}  // namespace rumor
