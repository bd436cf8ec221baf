// http_server.cc — HttpServer over cpp-httplib: routes, JSON errors, bind and shutdown.
#include "peer/http_server.h"

#include <httplib.h>
#include <netdb.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>

#include "core/error.h"
#include "core/threads.h"
#include "peer/host_port.h"
#include "peer/status_format.h"

namespace rumor {

namespace {

constexpr std::size_t kConnectionThreads = 4;
constexpr time_t kKeepAliveSeconds = 2;   // an idle keep-alive connection holds a thread
constexpr time_t kReadWriteSeconds = 5;   // a client this slow is dropped
constexpr std::size_t kMaxBodyBytes = 64 * 1024;
constexpr const char* kJson = "application/json";
constexpr const char* kPrometheus = "text/plain; version=0.0.4; charset=utf-8";
constexpr const char* kRoutes = "GET /status, GET /metrics, GET /faults, POST /faults";

void send_json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(2) + "\n", kJson);
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  send_json(res, status, nlohmann::json{{"error", message}});
}

// Only SO_REUSEADDR (restart while old connections linger in TIME_WAIT), never SO_REUSEPORT:
// a second server on a busy port must fail to bind, not share the port.
void reuse_address_only(socket_t sock) {
  int yes = 1;
  ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
}

// Throws ConfigError when `host` does not resolve to an address this machine could bind.
void check_resolves(const HostPort& where, const std::string& address) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(where.host.c_str(), nullptr, &hints, &found);
  if (rc != 0) {
    throw ConfigError("--http '" + address + "': cannot resolve host '" + where.host +
                      "': " + ::gai_strerror(rc) + " (valid: an address of this machine, "
                      "e.g. 127.0.0.1 or 0.0.0.0)");
  }
  ::freeaddrinfo(found);
}

}  // namespace

struct HttpServer::Impl {
  HttpHandlers handlers;
  std::mutex handler_mutex;  // handlers run one at a time
  httplib::Server server;
  HostPort bound;
  std::atomic<bool> finished{false};
  std::thread thread;

  // Runs `respond` under the handler lock, mapping exceptions to JSON errors.
  template <class Respond>
  void guarded(httplib::Response& res, Respond respond) {
    try {
      std::lock_guard lock(handler_mutex);
      respond();
    } catch (const ConfigError& error) {
      send_error(res, 400, error.what());
    } catch (const std::exception& error) {
      send_error(res, 500, error.what());
    }
  }

  bool faults_enabled(httplib::Response& res) {
    if (handlers.set_faults) return true;
    send_error(res, 403, "fault injection is disabled on this peer: start it with "
                         "--enable-faults to change faults at run time");
    return false;
  }

  void add_routes() {
    server.Get("/status", [this](const httplib::Request&, httplib::Response& res) {
      guarded(res, [&] { send_json(res, 200, status_json(handlers.status())); });
    });
    server.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      guarded(res, [&] { res.set_content(prometheus_text(handlers.status()), kPrometheus); });
    });
    server.Get("/faults", [this](const httplib::Request&, httplib::Response& res) {
      if (!faults_enabled(res)) return;
      guarded(res, [&] { send_json(res, 200, to_json(handlers.get_faults())); });
    });
    server.Post("/faults", [this](const httplib::Request& req, httplib::Response& res) {
      if (!faults_enabled(res)) return;
      guarded(res, [&] {
        const RuntimeFaults next = parse_fault_request(req.body, handlers.get_faults());
        handlers.set_faults(next);
        send_json(res, 200, to_json(next));
      });
    });
    // Called for every answer >= 400: fills in only those no route wrote a body for.
    using Reply = httplib::Server::HandlerResponse;
    server.set_error_handler(httplib::Server::HandlerWithResponse(
        [](const httplib::Request& req, httplib::Response& res) {
          if (!res.body.empty()) return Reply::Unhandled;
          const std::string what = res.status == 404   ? "no such route"
                                   : res.status == 413 ? "request body over 64 KiB"
                                                       : "bad request";
          send_error(res, res.status,
                     what + ": " + req.method + " " + req.path + " (routes: " + kRoutes + ")");
          return Reply::Handled;
        }));
  }
};

HttpServer::HttpServer(const std::string& address, HttpHandlers handlers)
    : impl_(std::make_unique<Impl>()) {
  RUMOR_CHECK(handlers.status != nullptr, "HttpServer needs a status handler");
  RUMOR_CHECK(!handlers.set_faults || handlers.get_faults,
              "HttpServer: set_faults needs get_faults");
  impl_->handlers = std::move(handlers);
  impl_->bound = parse_host_port(address, "--http");
  check_resolves(impl_->bound, address);

  httplib::Server& server = impl_->server;
  // httplib takes ownership of the queue it is given (and deletes it when listening ends).
  server.new_task_queue = [] { return new httplib::ThreadPool(kConnectionThreads); };
  server.set_socket_options(reuse_address_only);
  server.set_keep_alive_timeout(kKeepAliveSeconds);
  server.set_read_timeout(kReadWriteSeconds);
  server.set_write_timeout(kReadWriteSeconds);
  server.set_payload_max_length(kMaxBodyBytes);
  impl_->add_routes();

  errno = 0;
  int port = impl_->bound.port;
  if (port == 0) {
    port = server.bind_to_any_port(impl_->bound.host);
  } else if (!server.bind_to_port(impl_->bound.host, port)) {
    port = -1;
  }
  if (port < 0) {
    const int error = errno;
    throw ConfigError("--http '" + address + "': cannot listen there" +
                      (error != 0 ? std::string(" (") + std::strerror(error) + ")" : "") +
                      ": is the port in use, or the host not an address of this machine?");
  }
  impl_->bound.port = port;

  Impl* impl = impl_.get();
  impl_->thread = std::thread([impl] {
    name_this_thread("rumor-http");
    impl->server.listen_after_bind();
    impl->finished = true;
  });
  // stop() is a no-op until the accept loop has started: wait for it, so that the destructor
  // cannot miss it. The loop marks itself running first thing, so this wait is short.
  while (!impl_->server.is_running() && !impl_->finished) std::this_thread::yield();
}

HttpServer::~HttpServer() {
  impl_->server.stop();
  impl_->thread.join();
}

std::string HttpServer::address() const { return impl_->bound.to_string(); }

int HttpServer::port() const { return impl_->bound.port; }

}  // namespace rumor
