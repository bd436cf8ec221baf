// peer_client.cc — PeerClient over httplib::Client, with transport errors in plain words.
#include "peer/peer_client.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace rumor {

struct PeerClient::Impl {
  HostPort peer;
  std::chrono::milliseconds timeout;
  httplib::Client client;

  Impl(HostPort where, std::chrono::milliseconds wait)
      : peer(std::move(where)), timeout(wait), client(peer.host, peer.port) {
    client.set_connection_timeout(timeout);
    client.set_read_timeout(timeout);
    client.set_write_timeout(timeout);
    client.set_keep_alive(false);
  }

  HttpReply reply(const httplib::Result& result) const {
    if (!result) {
      throw Error("cannot reach peer at " + peer.to_string() + ": " + describe(result.error()));
    }
    return HttpReply{result->status, result->body};
  }

  std::string describe(httplib::Error error) const {
    const std::string ms = std::to_string(timeout.count()) + " ms";
    switch (error) {
      case httplib::Error::Connection:
        return "connection failed (refused, unreachable or unknown host; is the peer running "
               "with --http at this address?)";
      case httplib::Error::ConnectionTimeout:
        return "no connection within " + ms;
      case httplib::Error::Read:
        return "no answer within " + ms + " (or the connection was closed)";
      case httplib::Error::Write:
        return "could not send the request";
      default:
        return "HTTP client error " + httplib::to_string(error);
    }
  }
};

PeerClient::PeerClient(HostPort peer, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>(std::move(peer), timeout)) {}

PeerClient::~PeerClient() = default;

HttpReply PeerClient::get(const std::string& path) { return impl_->reply(impl_->client.Get(path)); }

HttpReply PeerClient::post_json(const std::string& path, const std::string& body) {
  return impl_->reply(impl_->client.Post(path, body, "application/json"));
}

std::string error_message(const HttpReply& reply) {
  const nlohmann::json body = nlohmann::json::parse(reply.body, nullptr, false);
  if (body.is_object() && body.contains("error") && body["error"].is_string()) {
    return body["error"].get<std::string>();
  }
  return reply.body.empty() ? "HTTP " + std::to_string(reply.status) : reply.body;
}

}  // namespace rumor
