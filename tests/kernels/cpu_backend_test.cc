#include "kernels/cpu/cpu_backend.h"

#include <gtest/gtest.h>

namespace rumor {
namespace {

TEST(CpuBackend, MakeBackendRejectsUnknownDevice) {
  EXPECT_THROW(make_backend("tpu"), ConfigError);
  EXPECT_EQ(make_backend("cpu")->name(), "cpu");
}

}  // namespace
}  // namespace rumor
