// arena_layout.h — where each tensor of a model lives inside one flat float arena.
//
// A replica's parameters (and, with the same layout, its gradients and optimizer state) are
// one contiguous buffer; layers hold views (offset, shape) into it. The layout knows nothing
// of memory: src/train allocates the arena on a Backend and resolves views to pointers.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace rumor {

struct TensorSlot {
  std::string name;          // e.g. "fc1.weight"
  std::size_t offset = 0;    // in floats from the arena start
  std::size_t rows = 0;      // row-major shape [rows, cols]; a vector has rows == 1
  std::size_t cols = 0;
  std::size_t size() const { return rows * cols; }
};

class ArenaLayout {
 public:
  // Appends a [rows, cols] tensor and returns its index. Offsets are aligned to 16 floats
  // (64 bytes) so every view can use vector loads.
  std::size_t add(std::string name, std::size_t rows, std::size_t cols);

  const TensorSlot& slot(std::size_t index) const { return slots_.at(index); }
  const std::vector<TensorSlot>& slots() const { return slots_; }
  // Total floats, including alignment padding (padding is kept at zero).
  std::size_t total() const { return total_; }

 private:
  static constexpr std::size_t kAlignFloats = 16;
  std::vector<TensorSlot> slots_;
  std::size_t total_ = 0;
};

}  // namespace rumor
