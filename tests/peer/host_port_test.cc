#include "peer/host_port.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace rumor {
namespace {

TEST(HostPort, ParsesNamesIpv4AndBracketedIpv6) {
  EXPECT_EQ(parse_host_port("127.0.0.1:9100", "--http").host, "127.0.0.1");
  EXPECT_EQ(parse_host_port("127.0.0.1:9100", "--http").port, 9100);
  EXPECT_EQ(parse_host_port("localhost:0", "--http").port, 0);
  EXPECT_EQ(parse_host_port("node-7.cluster:65535", "--http").port, 65535);
  const HostPort v6 = parse_host_port("[::1]:80", "--http");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.port, 80);
}

TEST(HostPort, ToStringBracketsIpv6) {
  EXPECT_EQ((HostPort{"127.0.0.1", 5}).to_string(), "127.0.0.1:5");
  EXPECT_EQ((HostPort{"::1", 80}).to_string(), "[::1]:80");
}

TEST(HostPort, RejectsMalformedNamingWhatAndText) {
  for (const char* bad : {"foo", "host:", ":80", "host:99999", "host:65536", "host:-1",
                          "host:+1", "host: 80", "host:8o", "::1:80", "[::1]", "[]:80", ""}) {
    try {
      parse_host_port(bad, "ADDR");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const ConfigError& error) {
      const std::string what = error.what();
      EXPECT_EQ(what.rfind(std::string("ADDR '") + bad + "'", 0), 0u) << what;
      EXPECT_NE(what.find("valid: HOST:PORT"), std::string::npos) << what;
    }
  }
}

}  // namespace
}  // namespace rumor
