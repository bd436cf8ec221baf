// installed_api.cc — compiled by installed_test.sh against the installed headers only (with
// -std=c++17): every public header is self-contained, and a one-peer engine runs on the
// installed library. Prints "ok" and exits 0 on success.
// Usage: installed_api IPC_ENDPOINT
#include <rumor/config.h>
#include <rumor/device.h>
#include <rumor/engine.h>
#include <rumor/error.h>
#include <rumor/rumor.h>

#include <cstdio>
#include <string>
#include <vector>

namespace {

int fail(const std::string& what) {
  std::fprintf(stderr, "installed_api: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return fail("usage: installed_api IPC_ENDPOINT");
  try {
    rumor::Device("cuda:7");
    return fail("Device(\"cuda:7\") did not throw");
  } catch (const rumor::ConfigError& e) {
    if (std::string(e.what()).find("available: cpu") == std::string::npos) {
      return fail(std::string("the device error does not list the devices: ") + e.what());
    }
  }
  rumor::Device device("cpu");
  std::vector<float> params{1.0f, 2.0f, 3.0f};
  rumor::GossipConfig config;
  config.staleness.max_staleness = 50;  // a field of the public StalenessConfig
  rumor::GossipEngine engine(config, {argv[1]}, 0, device.backend(), params.data(),
                             params.size());
  for (int step = 0; step < 3; ++step) {
    engine.mix();
    engine.publish(step);
  }
  if (engine.world() != 1 || engine.stats().step != 2) return fail("unexpected stats");
  if (std::string(rumor_version()).empty()) return fail("empty rumor_version()");
  std::printf("ok\n");
  return 0;
}
