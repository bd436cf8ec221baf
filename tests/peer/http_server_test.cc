// A real HttpServer on 127.0.0.1:0 and a real httplib client.
#include "peer/http_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <memory>
#include <stdexcept>

#include "core/error.h"
#include "fake_peer.h"
#include "prometheus_parser.h"

namespace rumor {
namespace {

using nlohmann::json;
using testing::FakePeer;

class HttpServerTest : public ::testing::Test {
 protected:
  void start(bool faults_enabled) {
    peer_ = std::make_unique<FakePeer>(faults_enabled);
    server_ = std::make_unique<HttpServer>("127.0.0.1:0", peer_->handlers());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_connection_timeout(std::chrono::seconds(5));
    client_->set_read_timeout(std::chrono::seconds(5));
  }
  httplib::Result post_faults(const std::string& body) {
    return client_->Post("/faults", body, "application/json");
  }
  static std::string error_of(const httplib::Result& r) {
    return json::parse(r->body).at("error").get<std::string>();
  }

  std::unique_ptr<FakePeer> peer_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<httplib::Client> client_;  // destroyed before the server
};

TEST_F(HttpServerTest, AddressIsTheBoundPort) {
  start(false);
  EXPECT_GT(server_->port(), 0);
  EXPECT_EQ(server_->address(), "127.0.0.1:" + std::to_string(server_->port()));
}

TEST_F(HttpServerTest, StatusIsJson) {
  start(false);
  const auto r = client_->Get("/status");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  const json status = json::parse(r->body);
  EXPECT_EQ(status["rank"], 2);
  EXPECT_EQ(status["neighbours"].size(), 2u);
  EXPECT_EQ(status["faults"]["dropped"], 21);
}

TEST_F(HttpServerTest, MetricsArePrometheusText) {
  start(false);
  const auto r = client_->Get("/metrics");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->get_header_value("Content-Type").starts_with("text/plain; version=0.0.4"))
      << r->get_header_value("Content-Type");
  const testing::PromText text = testing::parse_prometheus(r->body);
  for (const std::string& error : text.errors) ADD_FAILURE() << error;
  EXPECT_EQ(text.value("rumor_step", {{"rank", "2"}}), 1234);
}

TEST_F(HttpServerTest, FaultsRefusedWhenDisabled) {
  start(false);
  for (const auto& r : {client_->Get("/faults"), post_faults(R"({"drop": 0.5})")}) {
    ASSERT_TRUE(r) << httplib::to_string(r.error());
    EXPECT_EQ(r->status, 403);
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
    EXPECT_NE(error_of(r).find("--enable-faults"), std::string::npos) << r->body;
  }
}

TEST_F(HttpServerTest, PostedFaultsAreAppliedThroughTheCallback) {
  start(true);
  RuntimeFaults before;
  before.transport.delay = std::chrono::milliseconds(30);
  peer_->set(before);

  const auto r = post_faults(R"({"drop": 0.25, "partition": [1], "slowdown": 2})");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(peer_->sets(), 1);
  const RuntimeFaults now = peer_->faults();
  EXPECT_EQ(now.transport.drop, 0.25);
  EXPECT_EQ(now.transport.partitioned, std::set<std::uint32_t>{1});
  EXPECT_EQ(now.transport.delay, std::chrono::milliseconds(30));  // not in the body: kept
  EXPECT_EQ(now.slowdown, 2.0);
  EXPECT_EQ(json::parse(r->body), to_json(now));

  const auto get = client_->Get("/faults");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(json::parse(get->body), to_json(now));
}

TEST_F(HttpServerTest, BadBodiesAre400WithTheReason) {
  start(true);
  const auto garbage = post_faults("{drop: 0.1");
  ASSERT_TRUE(garbage);
  EXPECT_EQ(garbage->status, 400);
  EXPECT_NE(error_of(garbage).find("not valid JSON"), std::string::npos) << garbage->body;

  const auto range = post_faults(R"({"drop": 2})");
  ASSERT_TRUE(range);
  EXPECT_EQ(range->status, 400);
  EXPECT_NE(error_of(range).find("drop"), std::string::npos) << range->body;
  EXPECT_EQ(peer_->sets(), 0);
}

TEST_F(HttpServerTest, RefusalByThePeerIs400) {
  start(true);
  peer_->refuse_with("faults: partition: rank 9 is not a peer (valid: 0..3)");
  const auto r = post_faults(R"({"partition": [9]})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(error_of(r), "faults: partition: rank 9 is not a peer (valid: 0..3)");
}

TEST_F(HttpServerTest, UnknownRouteIs404Json) {
  start(false);
  for (const auto& r : {client_->Get("/nope"), client_->Post("/status", "", "text/plain")}) {
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 404);
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
    EXPECT_NE(error_of(r).find("GET /metrics"), std::string::npos) << r->body;
  }
}

TEST_F(HttpServerTest, OversizedBodyIs413Json) {
  start(true);
  const auto r = post_faults("{\"drop\": 0.1" + std::string(70 * 1024, ' ') + "}");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_NE(error_of(r).find("64 KiB"), std::string::npos) << r->body;
  EXPECT_EQ(peer_->sets(), 0);
}

TEST_F(HttpServerTest, ThrowingStatusHandlerIs500Json) {
  HttpHandlers handlers;
  handlers.status = []() -> PeerStatus { throw std::runtime_error("trainer gone"); };
  HttpServer server("127.0.0.1:0", handlers);
  httplib::Client client("127.0.0.1", server.port());
  const auto r = client.Get("/status");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(error_of(r), "trainer gone");
}

TEST_F(HttpServerTest, SecondServerOnTheSamePortIsAConfigError) {
  start(false);
  const std::string address = server_->address();
  try {
    HttpServer second(address, peer_->handlers());
    ADD_FAILURE() << "second server bound " << address;
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("--http '" + address + "'"), std::string::npos)
        << error.what();
  }
  // The first one still answers.
  const auto r = client_->Get("/status");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST(HttpServerAddress, MalformedAddressesNameTheFlag) {
  HttpHandlers handlers;
  handlers.status = [] { return PeerStatus{}; };
  for (const char* bad : {"foo", "host:", ":9100", "127.0.0.1:99999", "127.0.0.1:-1",
                          "127.0.0.1:80x", "::1:80", ""}) {
    try {
      HttpServer server(bad, handlers);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const ConfigError& error) {
      EXPECT_NE(std::string(error.what()).find("--http"), std::string::npos) << error.what();
      EXPECT_NE(std::string(error.what()).find("HOST:PORT"), std::string::npos) << error.what();
    }
  }
}

TEST(HttpServerAddress, HostNotOfThisMachineIsAConfigError) {
  HttpHandlers handlers;
  handlers.status = [] { return PeerStatus{}; };
  // 192.0.2.0/24 is TEST-NET-1: never an address of this machine.
  EXPECT_THROW(HttpServer("192.0.2.1:0", handlers), ConfigError);
}

TEST(HttpServerAddress, SetFaultsWithoutGetFaultsIsABug) {
  HttpHandlers handlers;
  handlers.status = [] { return PeerStatus{}; };
  handlers.set_faults = [](const RuntimeFaults&) {};
  EXPECT_THROW(HttpServer("127.0.0.1:0", handlers), Error);
}

}  // namespace
}  // namespace rumor
