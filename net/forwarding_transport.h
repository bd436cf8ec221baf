// forwarding_transport.h — a Transport that passes every call on to an inner one: the base of
// decorators (fault injection, the failure detector benchmark's tap), which override only what
// they change. Owns the inner transport.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "core/error.h"
#include "net/transport.h"

namespace rumor {

class ForwardingTransport : public Transport {
 public:
  explicit ForwardingTransport(std::unique_ptr<Transport> inner) : inner_(std::move(inner)) {
    RUMOR_CHECK(inner_ != nullptr, "a transport decorator needs an inner transport");
  }

  Transport& inner() { return *inner_; }
  const Transport& inner() const { return *inner_; }

  std::uint32_t rank() const override { return inner_->rank(); }
  std::uint32_t num_peers() const override { return inner_->num_peers(); }
  std::string endpoint() const override { return inner_->endpoint(); }
  void connect(std::uint32_t peer, const std::string& endpoint) override {
    inner_->connect(peer, endpoint);
  }
  void disconnect(std::uint32_t peer) override { inner_->disconnect(peer); }
  void refresh(std::uint32_t peer) override { inner_->refresh(peer); }
  [[nodiscard]] SendResult send(std::uint32_t peer, Message message,
                                std::chrono::milliseconds wait) override {
    return inner_->send(peer, std::move(message), wait);
  }
  std::optional<Message> receive(std::chrono::milliseconds timeout) override {
    return inner_->receive(timeout);
  }
  NetCounters counters() const override { return inner_->counters(); }

 private:
  std::unique_ptr<Transport> inner_;
};

}  // namespace rumor
