// c_api_test.cc — the C ABI (rumor/rumor.h) through the shared library: defaults, every error
// code with its message, the thread-local last error, and two engines exchanging parameters
// over ipc:// inside this process (on the CPU, and from a CUDA device when one is present).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rumor/engine.h>
#include <rumor/rumor.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "rumor_config.h"

#if RUMOR_HAVE_CUDA
#include <cuda_runtime.h>
#endif

extern "C" {
rumor_config c_abi_default_config(void);
size_t c_abi_stats_size(void);
int c_abi_null_engine_calls(void);
}

namespace {

using ::testing::HasSubstr;

// A fresh folder for ipc:// endpoints, removed with its contents at the end.
class IpcFolder {
 public:
  IpcFolder() {
    std::string pattern = (std::filesystem::temp_directory_path() / "rumor-c-api-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~IpcFolder() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string endpoint(const std::string& name) const { return "ipc://" + path_ + "/" + name; }

 private:
  std::string path_;
};

// A configuration for `rank` of the peers in `endpoints` (which must outlive it).
struct Peers {
  explicit Peers(std::vector<std::string> list) : endpoints(std::move(list)) {
    for (const auto& e : endpoints) pointers.push_back(e.c_str());
  }
  rumor_config config(int rank) const {
    rumor_config c = rumor_config_default();
    c.peers = pointers.data();
    c.num_peers = pointers.size();
    c.rank = rank;
    c.model = "c-api-test";
    c.heartbeat_ms = 20;
    return c;
  }
  std::vector<std::string> endpoints;
  std::vector<const char*> pointers;
};

TEST(CApi, DefaultsAreTheCppDefaultsAsSeenFromC) {
  const rumor::GossipConfig cpp;
  const rumor_config c = c_abi_default_config();
  EXPECT_STREQ(c.rule, cpp.rule.c_str());
  EXPECT_STREQ(c.topology, cpp.topology.c_str());
  EXPECT_STREQ(c.wire_dtype, cpp.wire_dtype.c_str());
  EXPECT_STREQ(c.model, cpp.model.c_str());
  EXPECT_EQ(c.alpha, cpp.alpha);
  EXPECT_EQ(c.publish_every, cpp.publish_every);
  EXPECT_EQ(c.max_staleness, cpp.staleness.max_staleness);
  EXPECT_EQ(c.half_life, cpp.staleness.half_life);
  EXPECT_EQ(c.drift_limit, cpp.staleness.drift_limit);
  EXPECT_EQ(c.wait_limit, cpp.staleness.wait_limit);
  EXPECT_EQ(c.heartbeat_ms, cpp.heartbeat_interval.count());
  EXPECT_EQ(c.run_id, cpp.run_id);
  EXPECT_EQ(c.seed, cpp.seed);
  EXPECT_EQ(c.peers, nullptr);
  EXPECT_EQ(c.num_peers, 0u);
  EXPECT_EQ(c.cpu_threads, 1);
  EXPECT_EQ(c_abi_stats_size(), sizeof(struct rumor_stats));
  EXPECT_STREQ(rumor_version(), RUMOR_VERSION);
}

TEST(CApi, BadRuleNameIsAConfigErrorThatNamesItAndTheValidOnes) {
  IpcFolder folder;
  const Peers peers({folder.endpoint("0")});
  rumor_config config = peers.config(0);
  config.rule = "gossip-harder";
  std::vector<float> params(4, 0.0f);
  rumor_engine* engine = reinterpret_cast<rumor_engine*>(&params);  // must be reset to NULL
  EXPECT_EQ(rumor_engine_create(&config, params.data(), params.size(), "cpu", &engine),
            RUMOR_ERROR_CONFIG);
  EXPECT_EQ(engine, nullptr);
  EXPECT_THAT(rumor_last_error(), HasSubstr("rule 'gossip-harder' is not valid"));
  EXPECT_THAT(rumor_last_error(), HasSubstr("push-sum"));
}

TEST(CApi, RankOutsideThePeerListIsAConfigError) {
  IpcFolder folder;
  const Peers peers({folder.endpoint("0"), folder.endpoint("1")});
  std::vector<float> params(4, 0.0f);
  rumor_engine* engine = nullptr;
  for (int rank : {2, -1}) {
    const rumor_config config = peers.config(rank);
    EXPECT_EQ(rumor_engine_create(&config, params.data(), params.size(), "cpu", &engine),
              RUMOR_ERROR_CONFIG);
    EXPECT_THAT(rumor_last_error(), HasSubstr("rank " + std::to_string(rank) +
                                              " is outside the peer list (0..1)"));
  }
}

TEST(CApi, OtherBadValuesAreConfigErrorsNamingTheField) {
  IpcFolder folder;
  const Peers peers({folder.endpoint("0")});
  std::vector<float> params(4, 0.0f);
  rumor_engine* engine = nullptr;
  const auto create_fails_with = [&](rumor_config config, const std::string& message) {
    EXPECT_EQ(rumor_engine_create(&config, params.data(), params.size(), "cpu", &engine),
              RUMOR_ERROR_CONFIG);
    EXPECT_THAT(rumor_last_error(), HasSubstr(message));
  };
  rumor_config c = peers.config(0);
  c.topology = "hypercube";
  create_fails_with(c, "topology 'hypercube' is not valid");
  c = peers.config(0);
  c.wire_dtype = "f8";
  create_fails_with(c, "wire-dtype 'f8' is not valid");
  c = peers.config(0);
  c.peers = nullptr;
  create_fails_with(c, "config.peers is NULL");
  c = peers.config(0);
  c.num_peers = 0;
  create_fails_with(c, "config.num_peers is 0");
  c = peers.config(0);
  c.rule = nullptr;
  create_fails_with(c, "config.rule is NULL");
  c = peers.config(0);
  c.heartbeat_ms = 0;
  create_fails_with(c, "heartbeat-ms");
  c = peers.config(0);
  c.cpu_threads = -1;
  create_fails_with(c, "config.cpu_threads -1");
  const Peers unbindable({"ipc:///nonexistent-folder-of-rumor/0"});
  create_fails_with(unbindable.config(0), "nonexistent-folder-of-rumor");
}

TEST(CApi, NullPointersAreInvalidArgumentsThatNameTheArgument) {
  IpcFolder folder;
  const Peers peers({folder.endpoint("0")});
  const rumor_config config = peers.config(0);
  std::vector<float> params(4, 0.0f);
  rumor_engine* engine = nullptr;
  EXPECT_EQ(rumor_engine_create(&config, params.data(), params.size(), "cpu", nullptr),
            RUMOR_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(rumor_last_error(), "rumor_engine_create: out is NULL");
  EXPECT_EQ(rumor_engine_create(nullptr, params.data(), params.size(), "cpu", &engine),
            RUMOR_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(rumor_last_error(), "rumor_engine_create: config is NULL");
  EXPECT_EQ(rumor_engine_create(&config, nullptr, params.size(), "cpu", &engine),
            RUMOR_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(rumor_last_error(), "rumor_engine_create: params is NULL");
  EXPECT_EQ(rumor_engine_create(&config, params.data(), params.size(), nullptr, &engine),
            RUMOR_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(rumor_last_error(), "rumor_engine_create: device is NULL");
  EXPECT_EQ(rumor_engine_create(&config, params.data(), 0, "cpu", &engine),
            RUMOR_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(rumor_last_error(), "rumor_engine_create: count is 0");
  EXPECT_EQ(c_abi_null_engine_calls(), 0);
  EXPECT_STREQ(rumor_last_error(), "rumor_stats: engine is NULL");
  EXPECT_EQ(rumor_engine_destroy(nullptr), RUMOR_OK);

  ASSERT_EQ(rumor_engine_create(&config, params.data(), params.size(), "cpu", &engine),
            RUMOR_OK)
      << rumor_last_error();
  EXPECT_EQ(rumor_stats(engine, nullptr), RUMOR_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(rumor_last_error(), "rumor_stats: out is NULL");
  EXPECT_EQ(rumor_mix(engine, nullptr), RUMOR_OK);  // applied is optional
  EXPECT_EQ(rumor_engine_destroy(engine), RUMOR_OK);
}

TEST(CApi, UnknownDeviceIsADeviceErrorListingTheAvailableOnes) {
  IpcFolder folder;
  const Peers peers({folder.endpoint("0")});
  const rumor_config config = peers.config(0);
  std::vector<float> params(4, 0.0f);
  rumor_engine* engine = nullptr;
  for (const char* device : {"cuda:7", "tpu", "cuda:x"}) {
    EXPECT_EQ(rumor_engine_create(&config, params.data(), params.size(), device, &engine),
              RUMOR_ERROR_DEVICE)
        << device;
    EXPECT_EQ(engine, nullptr);
    EXPECT_THAT(rumor_last_error(), HasSubstr(std::string("device '") + device + "'"));
  }
  // The message for a GPU that is absent lists what is there.
  EXPECT_EQ(rumor_engine_create(&config, params.data(), params.size(), "cuda:7", &engine),
            RUMOR_ERROR_DEVICE);
  EXPECT_THAT(rumor_last_error(), HasSubstr("available: cpu"));
}

TEST(CApi, LastErrorIsPerThreadAndKeptBySuccessfulCalls) {
  EXPECT_EQ(rumor_publish(nullptr, 0), RUMOR_ERROR_INVALID_ARGUMENT);
  std::string other;
  std::thread([&] {
    EXPECT_STREQ(rumor_last_error(), "");
    EXPECT_EQ(rumor_mix(nullptr, nullptr), RUMOR_ERROR_INVALID_ARGUMENT);
    other = rumor_last_error();
  }).join();
  EXPECT_EQ(other, "rumor_mix: engine is NULL");
  EXPECT_STREQ(rumor_last_error(), "rumor_publish: engine is NULL");
  EXPECT_EQ(rumor_engine_destroy(nullptr), RUMOR_OK);
  EXPECT_STREQ(rumor_last_error(), "rumor_publish: engine is NULL");
}

TEST(CApi, StatusStringsNameEveryCode) {
  EXPECT_STREQ(rumor_status_string(RUMOR_OK), "ok");
  EXPECT_STREQ(rumor_status_string(RUMOR_ERROR_INVALID_ARGUMENT), "invalid argument");
  EXPECT_STREQ(rumor_status_string(RUMOR_ERROR_CONFIG), "configuration error");
  EXPECT_STREQ(rumor_status_string(RUMOR_ERROR_DEVICE), "device error");
  EXPECT_STREQ(rumor_status_string(RUMOR_ERROR_RUNTIME), "runtime error");
  EXPECT_STREQ(rumor_status_string(RUMOR_ERROR_OUT_OF_MEMORY), "out of memory");
  EXPECT_STREQ(rumor_status_string(static_cast<rumor_status>(42)), "unknown status");
}

// Two engines in this process: rank 0 starts at 0, rank 1 at 1 (params0 and params1 are
// where each engine's parameters live on its device; read0/read1 copy them to the host).
// Both gossip until every parameter of both is within 1e-4 of the mean 0.5.
template <class Read0, class Read1>
void exchange_until_mean(const Peers& peers, float* params0, const char* device0,
                         float* params1, const char* device1, std::size_t count, Read0 read0,
                         Read1 read1) {
  const rumor_config config0 = peers.config(0), config1 = peers.config(1);
  rumor_engine* e0 = nullptr;
  rumor_engine* e1 = nullptr;
  ASSERT_EQ(rumor_engine_create(&config0, params0, count, device0, &e0), RUMOR_OK)
      << rumor_last_error();
  ASSERT_EQ(rumor_engine_create(&config1, params1, count, device1, &e1), RUMOR_OK)
      << rumor_last_error();
  const auto near_mean = [](const std::vector<float>& v) {
    for (float x : v) {
      if (std::abs(x - 0.5f) > 1e-4f) return false;
    }
    return true;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  bool converged = false;
  for (std::int64_t step = 0; !converged && std::chrono::steady_clock::now() < deadline;
       ++step) {
    int applied0 = -1, applied1 = -1;
    ASSERT_EQ(rumor_mix(e0, &applied0), RUMOR_OK) << rumor_last_error();
    ASSERT_EQ(rumor_mix(e1, &applied1), RUMOR_OK) << rumor_last_error();
    EXPECT_GE(applied0, 0);
    EXPECT_GE(applied1, 0);
    converged = near_mean(read0()) && near_mean(read1());
    ASSERT_EQ(rumor_publish(e0, step), RUMOR_OK) << rumor_last_error();
    ASSERT_EQ(rumor_publish(e1, step), RUMOR_OK) << rumor_last_error();
    std::this_thread::yield();  // no training here: let the I/O threads run
  }
  EXPECT_TRUE(converged) << "rank 0 at " << read0()[0] << ", rank 1 at " << read1()[0];
  struct rumor_stats stats;
  ASSERT_EQ(rumor_stats(e0, &stats), RUMOR_OK);
  EXPECT_EQ(stats.rank, 0);
  EXPECT_EQ(stats.world, 2);
  EXPECT_EQ(stats.live_peers, 1);
  EXPECT_GT(stats.sent, 0u);
  EXPECT_GT(stats.received, 0u);
  EXPECT_GT(stats.applied, 0u);
  EXPECT_GT(stats.step, 0);
  EXPECT_EQ(rumor_engine_destroy(e0), RUMOR_OK);
  EXPECT_EQ(rumor_engine_destroy(e1), RUMOR_OK);
}

TEST(CApi, TwoEnginesExchangeOverIpcAndReachTheMean) {
  IpcFolder folder;
  const Peers peers({folder.endpoint("0"), folder.endpoint("1")});
  constexpr std::size_t kCount = 37;
  std::vector<float> a(kCount, 0.0f), b(kCount, 1.0f);
  exchange_until_mean(peers, a.data(), "cpu", b.data(), "cpu", kCount, [&] { return a; },
                      [&] { return b; });
}

TEST(CApi, ACudaEngineExchangesWithACpuEngine) {
#if RUMOR_HAVE_CUDA
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    GTEST_SKIP() << "no CUDA device on this machine";
  }
  IpcFolder folder;
  const Peers peers({folder.endpoint("0"), folder.endpoint("1")});
  constexpr std::size_t kCount = 37;
  std::vector<float> host(kCount, 0.0f), ones(kCount, 1.0f);
  float* device = nullptr;
  ASSERT_EQ(cudaMalloc(&device, kCount * sizeof(float)), cudaSuccess);
  ASSERT_EQ(cudaMemcpy(device, ones.data(), kCount * sizeof(float), cudaMemcpyHostToDevice),
            cudaSuccess);
  exchange_until_mean(peers, host.data(), "cpu", device, "cuda:0", kCount, [&] { return host; },
                      [&] {
                        std::vector<float> out(kCount);
                        EXPECT_EQ(cudaMemcpy(out.data(), device, kCount * sizeof(float),
                                             cudaMemcpyDeviceToHost),
                                  cudaSuccess);
                        return out;
                      });
  EXPECT_EQ(cudaFree(device), cudaSuccess);
#else
  GTEST_SKIP() << "this build has no CUDA backend";
#endif
}

}  // namespace
