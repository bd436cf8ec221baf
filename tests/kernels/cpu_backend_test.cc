// cpu_backend_test.cc — CpuBackend memory (allocate, copies, fill), DeviceArray ownership, and
// the backend factory (make_backend, available_devices).
//
// The math ops are tested against double-precision loops in cpu_backend_ops_test.cc.
#include "kernels/cpu/cpu_backend.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "rumor_config.h"
#include "tests/kernels/kernel_test_util.h"

namespace rumor {
namespace {

using namespace kernel_test;  // NOLINT(google-build-using-namespace): test helpers only

// --- allocate / deallocate ---

TEST(CpuBackendMemory, AllocationsAreNonNullAlignedWritableAndDistinct) {
  CpuBackend backend;
  const std::vector<std::size_t> sizes{0, 1, 3, 63, 64, 65, 4097, std::size_t{1} << 20};
  std::vector<void*> live;
  for (const std::size_t bytes : sizes) {
    void* ptr = backend.allocate(bytes);
    ASSERT_NE(ptr, nullptr) << bytes << " bytes";
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(ptr) % 64, 0u) << bytes << " bytes";
    // Every byte asked for is usable: write a pattern over the whole range and read it back.
    std::vector<unsigned char> pattern(bytes), back(bytes);
    for (std::size_t i = 0; i < bytes; ++i) pattern[i] = static_cast<unsigned char>(i * 7 + 1);
    backend.copy_from_host(ptr, pattern.data(), bytes);
    backend.copy_to_host(back.data(), ptr, bytes);
    EXPECT_EQ(back, pattern) << bytes << " bytes";
    live.push_back(ptr);
  }
  EXPECT_EQ(std::set<void*>(live.begin(), live.end()).size(), live.size());
  // Zero-byte copies with null host pointers (an empty vector's data()) are no-ops.
  backend.copy_from_host(live[1], nullptr, 0);
  backend.copy_to_host(nullptr, live[1], 0);
  backend.copy(live[1], live[2], 0);
  for (void* ptr : live) backend.deallocate(ptr);
  backend.deallocate(nullptr);  // a no-op, like free(nullptr)
}

TEST(CpuBackendMemory, ImpossibleAllocationThrowsInsteadOfReturningNull) {
  CpuBackend backend;
  constexpr std::size_t kMax = std::numeric_limits<std::size_t>::max();
  // kMax and kMax - 10 would wrap to a tiny size if rounding up to 64 bytes overflowed.
  for (const std::size_t bytes : {kMax, kMax - 10, std::size_t{1} << 62}) {
    EXPECT_THROW(backend.allocate(bytes), Error) << bytes << " bytes";
  }
}

// --- copies and fill ---

TEST(CpuBackendMemory, HostRoundTripAndDeviceCopyOfOddByteCounts) {
  CpuBackend backend;
  Rng rng(1);
  for (const std::size_t bytes : {std::size_t{1}, std::size_t{3}, std::size_t{17},
                                  std::size_t{127}, std::size_t{4097}}) {
    std::vector<unsigned char> host(bytes);
    for (auto& b : host) b = static_cast<unsigned char>(rng.below(256));
    void* a = backend.allocate(bytes);
    void* b = backend.allocate(bytes);
    std::vector<unsigned char> poison_bytes(bytes, 0xA5);
    backend.copy_from_host(b, poison_bytes.data(), bytes);

    backend.copy_from_host(a, host.data(), bytes);
    backend.copy(b, a, bytes);
    std::vector<unsigned char> back(bytes, 0x5A);
    backend.copy_to_host(back.data(), b, bytes);
    EXPECT_EQ(back, host) << bytes << " bytes";
    backend.deallocate(a);
    backend.deallocate(b);
  }
}

TEST(CpuBackendMemory, CopyOfFloatsTouchesOnlyItsRange) {
  CpuBackend backend;
  Rng rng(2);
  for (const std::size_t n : kOddSizes) {
    const std::vector<float> values = random_normal(rng, n, 1.0);
    GuardedArray src(backend, values);
    GuardedArray dst(backend, n);
    backend.copy(dst.data(), src.data(), n * sizeof(float));
    EXPECT_TRUE(all_close(dst, values, kExact)) << "n=" << n;
    EXPECT_TRUE(dst.guards_intact()) << "n=" << n;
  }
}

TEST(CpuBackendMemory, FillWritesEveryElementAndNothingElse) {
  CpuBackend backend;
  for (const float value : {-3.5f, 0.0f, 1e30f}) {
    for (const std::size_t n : kOddSizes) {
      GuardedArray x(backend, n);
      backend.fill(x.data(), n, value);
      EXPECT_TRUE(all_close(x, std::vector<float>(n, value), kExact)) << "n=" << n;
      EXPECT_TRUE(x.guards_intact()) << "n=" << n;
    }
  }
  GuardedArray empty(backend, 0);
  backend.fill(empty.data(), 0, 1.0f);
  EXPECT_TRUE(empty.guards_intact());
}

// --- DeviceArray ---

// Forwards everything to a CpuBackend and counts allocations, to check ownership.
class CountingBackend final : public Backend {
 public:
  int allocations = 0;
  int deallocations = 0;

  std::string name() const override { return inner_.name(); }
  bool host_accessible() const override { return true; }
  void* allocate(std::size_t bytes) override {
    ++allocations;
    return inner_.allocate(bytes);
  }
  void deallocate(void* ptr) noexcept override {
    ++deallocations;
    inner_.deallocate(ptr);
  }
  void copy_from_host(void* dst, const void* src, std::size_t bytes) override {
    inner_.copy_from_host(dst, src, bytes);
  }
  void copy_to_host(void* dst, const void* src, std::size_t bytes) override {
    inner_.copy_to_host(dst, src, bytes);
  }
  void copy(void* dst, const void* src, std::size_t bytes) override {
    inner_.copy(dst, src, bytes);
  }
  void fill(float* x, std::size_t n, float value) override { inner_.fill(x, n, value); }
  void synchronize() override {}
  void gemm(Transpose, Transpose, int, int, int, float, const float*, const float*, float,
            float*) override {}
  void add_bias(float*, const float*, int, int) override {}
  void bias_grad(const float*, int, int, float*) override {}
  void relu(const float*, float*, std::size_t) override {}
  void relu_backward(const float*, const float*, float*, std::size_t) override {}
  void softmax_cross_entropy(const float*, const std::int32_t*, int, int, float, float*,
                             float*) override {}
  void argmax_rows(const float*, int, int, std::int32_t*) override {}
  void axpby(std::size_t, float, const float*, float, float*) override {}
  void sgd_update(std::size_t, const SgdConfig&, float*, const float*, float*) override {}
  double sum_squares(const float*, std::size_t) override { return 0.0; }
  bool all_finite(const float*, std::size_t) override { return true; }

 private:
  CpuBackend inner_;
};

TEST(DeviceArray, DefaultAndZeroSizedArraysOwnNothing) {
  CountingBackend backend;
  DeviceArray<float> none;
  EXPECT_EQ(none.data(), nullptr);
  EXPECT_EQ(none.size(), 0u);
  {
    DeviceArray<float> empty(backend, 0);
    EXPECT_EQ(empty.data(), nullptr);
    EXPECT_EQ(empty.bytes(), 0u);
    empty.upload(std::span<const float>());
    EXPECT_TRUE(empty.to_host().empty());
  }
  EXPECT_EQ(backend.allocations, 0);
  EXPECT_EQ(backend.deallocations, 0);
}

TEST(DeviceArray, UploadAndToHostRoundTrip) {
  CpuBackend backend;
  Rng rng(3);
  const std::vector<float> values = random_normal(rng, 1000, 2.0);
  DeviceArray<float> array(backend, values.size());
  EXPECT_EQ(array.bytes(), values.size() * sizeof(float));
  EXPECT_EQ(&array.backend(), &backend);
  array.upload(values);
  EXPECT_EQ(array.to_host(), values);

  const std::vector<std::int32_t> labels{3, -1, 7, 0, 2147483647};
  DeviceArray<std::int32_t> ints = to_device(backend, labels);
  EXPECT_EQ(ints.to_host(), labels);
}

TEST(DeviceArray, UploadOfWrongSizeThrowsAndLeavesContents) {
  CpuBackend backend;
  const std::vector<float> values{1, 2, 3, 4};
  DeviceArray<float> array = to_device(backend, values);
  EXPECT_THROW(array.upload(std::vector<float>(3, 0.0f)), Error);
  EXPECT_THROW(array.upload(std::vector<float>(5, 0.0f)), Error);
  EXPECT_EQ(array.to_host(), values);
}

TEST(DeviceArray, MoveConstructionTransfersOwnership) {
  CountingBackend backend;
  {
    DeviceArray<float> a(backend, 17);
    float* data = a.data();
    DeviceArray<float> b(std::move(a));
    EXPECT_EQ(b.data(), data);
    EXPECT_EQ(b.size(), 17u);
    EXPECT_EQ(a.data(), nullptr);  // NOLINT(bugprone-use-after-move): moved-from state is API
    EXPECT_EQ(a.size(), 0u);
  }
  EXPECT_EQ(backend.allocations, 1);
  EXPECT_EQ(backend.deallocations, 1);
}

TEST(DeviceArray, MoveAssignmentReleasesTheOldBufferOnce) {
  CountingBackend backend;
  {
    DeviceArray<float> a(backend, 5);
    DeviceArray<float> b(backend, 9);
    float* a_data = a.data();
    b = std::move(a);
    EXPECT_EQ(backend.deallocations, 1);  // b's old buffer
    EXPECT_EQ(b.data(), a_data);
    EXPECT_EQ(b.size(), 5u);
    EXPECT_EQ(a.data(), nullptr);  // NOLINT(bugprone-use-after-move)
    DeviceArray<float>& same = b;
    b = std::move(same);  // self-move keeps the buffer
    EXPECT_EQ(b.data(), a_data);
    EXPECT_EQ(backend.deallocations, 1);
  }
  EXPECT_EQ(backend.allocations, 2);
  EXPECT_EQ(backend.deallocations, 2);
}

// --- make_backend / available_devices ---

TEST(BackendFactory, CpuBackendHasTheAskedThreadCount) {
  const auto cpu = make_backend("cpu");
  EXPECT_EQ(cpu->name(), "cpu");
  EXPECT_TRUE(cpu->host_accessible());
  ASSERT_NE(dynamic_cast<CpuBackend*>(cpu.get()), nullptr);
  EXPECT_EQ(dynamic_cast<CpuBackend&>(*cpu).threads(), 1);
  EXPECT_EQ(dynamic_cast<CpuBackend&>(*make_backend("cpu", 2)).threads(), 2);
  const int all = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  EXPECT_EQ(dynamic_cast<CpuBackend&>(*make_backend("cpu", 0)).threads(), all);
  EXPECT_THROW(make_backend("cpu", -1), ConfigError);
  CpuBackend restore(1);  // OpenBLAS's thread count is process-wide: back to one
}

// The message names the rejected device string.
void expect_config_error(const std::string& device) {
  try {
    make_backend(device);
    ADD_FAILURE() << "make_backend('" << device << "') did not throw";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'" + device + "'"), std::string::npos) << e.what();
  }
}

TEST(BackendFactory, UnknownOrMalformedDevicesAreConfigErrors) {
  for (const char* device : {"tpu", "", "CPU", "cpu:0", "cuda", "cuda:", "cuda:x", "cuda:-1",
                             "cuda:0x", "cuda:1.5", "cuda: 0"}) {
    expect_config_error(device);
  }
}

TEST(BackendFactory, CudaDeviceOnACudaLessBuildIsAConfigError) {
  if (RUMOR_HAVE_CUDA) GTEST_SKIP() << "this build contains the CUDA backend";
  expect_config_error("cuda:0");
  try {
    make_backend("cuda:0");
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("available: cpu"), std::string::npos) << e.what();
  }
}

TEST(BackendFactory, AvailableDevicesStartWithCpu) {
  const std::vector<std::string> devices = available_devices();
  ASSERT_FALSE(devices.empty());
  EXPECT_EQ(devices.front(), "cpu");
  if (!RUMOR_HAVE_CUDA) {
    EXPECT_EQ(devices.size(), 1u);
  }
}

}  // namespace
}  // namespace rumor
