// Watching: the stream splitter, event parsing, streamed and cancelled requests, the adaptive
// limiter, and the Reflector against a scripted HTTP/1.1 server that streams chunked watch
// answers, ends them, breaks them, and answers 410 — so list → watch → resume → relist is pinned
// down without an API server.

#include "kube/client.hpp"
#include "kube/limiter.hpp"
#include "kube/watch.hpp"
#include "kube_test_support.hpp"

#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

using namespace meshctl;
using namespace meshctl::kube;
using namespace meshctl::testing::kube;
using nlohmann::json;
using std::chrono::milliseconds;

namespace {

// A plain-HTTP server on loopback: for each request, the handler writes the whole answer itself
// through a Conn (so it can stream chunks, pause, or hang up mid-way).
class StreamServer {
public:
  struct Conn {
    int fd;
    void send(const std::string& bytes) const {
      (void)::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    }
    void start_chunked(int status = 200) const {
      send("HTTP/1.1 " + std::to_string(status) +
           " OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
    }
    void chunk(const std::string& data) const {
      char size[32];
      std::snprintf(size, sizeof size, "%zx\r\n", data.size());
      send(size + data + "\r\n");
    }
    void end_chunked() const { send("0\r\n\r\n"); }
    void whole(int status, const std::string& body) const {
      send("HTTP/1.1 " + std::to_string(status) +
           " X\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body);
    }
  };
  using Handler = std::function<void(const std::string& target, const Conn&)>;

  explicit StreamServer(Handler handler) : m_handler(std::move(handler)) {
    m_listen = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(m_listen, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(m_listen, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(m_listen, reinterpret_cast<sockaddr*>(&addr), &len);
    m_port = ntohs(addr.sin_port);
    ::listen(m_listen, 16);
    m_accept = std::thread([this] { accept_loop(); });
  }
  ~StreamServer() {
    m_stop = true;
    ::shutdown(m_listen, SHUT_RDWR);
    ::close(m_listen);
    m_accept.join();
    for (auto& t : m_conns) {
      t.join();
    }
  }
  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }
  [[nodiscard]] std::vector<std::string> targets() const {
    std::lock_guard lock(m_mutex);
    return m_targets;
  }

private:
  void accept_loop() {
    while (!m_stop) {
      const int fd = ::accept(m_listen, nullptr, nullptr);
      if (fd < 0) {
        return;
      }
      m_conns.emplace_back([this, fd] { serve(fd); });
    }
  }
  void serve(int fd) {
    std::string buf;
    char tmp[4096];
    for (;;) {
      const auto end = buf.find("\r\n\r\n");
      if (end == std::string::npos) {
        const auto n = ::read(fd, tmp, sizeof tmp);
        if (n <= 0) {
          break;
        }
        buf.append(tmp, static_cast<std::size_t>(n));
        continue;
      }
      const std::string head = buf.substr(0, end);
      buf.erase(0, end + 4);
      const auto sp1 = head.find(' ');
      const std::string target = head.substr(sp1 + 1, head.find(' ', sp1 + 1) - sp1 - 1);
      {
        std::lock_guard lock(m_mutex);
        m_targets.push_back(target);
      }
      m_handler(target, Conn{fd});
      break; // one request per connection: every answer ends by closing
    }
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
  }

  Handler m_handler;
  int m_listen = -1;
  int m_port = 0;
  std::atomic<bool> m_stop{false};
  std::thread m_accept;
  std::vector<std::thread> m_conns;
  mutable std::mutex m_mutex;
  std::vector<std::string> m_targets;
};

std::unique_ptr<Client> client_for(const std::string& url) {
  ClientOptions o;
  o.connect_timeout = std::chrono::seconds(5);
  o.request_timeout = std::chrono::seconds(10);
  o.retry.max_attempts = 1;
  o.proxy_env = ProxyEnvironment{};
  auto c = Client::create(context_for(url), std::move(o), static_credentials({}));
  REQUIRE(c);
  return std::move(*c);
}

std::string event(const char* type, const std::string& name, const std::string& rv) {
  return json{{"type", type},
              {"object",
               {{"kind", "Service"}, {"metadata", {{"name", name}, {"resourceVersion", rv}}}}}}
             .dump() +
         "\n";
}

std::string list_body(const std::vector<std::string>& names, const std::string& rv) {
  json items = json::array();
  for (const auto& n : names) {
    items.push_back({{"metadata", {{"name", n}, {"resourceVersion", rv}}}});
  }
  return json{{"kind", "ServiceList"}, {"metadata", {{"resourceVersion", rv}}}, {"items", items}}
      .dump();
}

bool has_param(const std::string& target, const std::string& param) {
  return target.find(param) != std::string::npos;
}

// What a reflector's handlers saw, as lines: "list 100: a b", "ADDED c 101".
struct Seen {
  std::mutex mutex;
  std::vector<std::string> lines;
  std::string current;
  void add(std::string s) {
    std::lock_guard lock(mutex);
    lines.push_back(std::move(s));
  }
  ReflectorHandlers handlers() {
    ReflectorHandlers h;
    h.list_begin = [this] { current = "list"; };
    h.listed = [this](json& item) { current += " " + item["metadata"]["name"].get<std::string>(); };
    h.list_end = [this](const std::string& rv) { add(current + " @" + rv); };
    h.event = [this](WatchEvent& ev) {
      add(std::string(to_string(ev.type)) + " " + ev.object["metadata"]["name"].get<std::string>() +
          " " + ev.resource_version());
    };
    return h;
  }
  std::vector<std::string> snapshot() {
    std::lock_guard lock(mutex);
    return lines;
  }
};

template <class Pred> bool eventually(Pred pred, milliseconds limit = milliseconds(5000)) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) {
      return true;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  return pred();
}

} // namespace

TEST_CASE("the stream splitter finds whole JSON documents however the bytes are cut",
          "[kube][watch]") {
  const std::string stream = R"({"type":"ADDED","object":{"a":"}{\"x"}}
{"type":"DELETED","object":{"b":[1,{"c":"]"}]}}  {"type":"BOOKMARK","object":{}})";
  for (std::size_t piece : {1U, 2U, 7U, 64U, 1000U}) {
    JsonStreamSplitter s;
    std::vector<std::string> docs;
    for (std::size_t i = 0; i < stream.size(); i += piece) {
      s.feed(std::string_view(stream).substr(i, piece));
      while (auto d = s.next()) {
        docs.push_back(*d);
      }
    }
    REQUIRE(docs.size() == 3);
    CHECK(json::parse(docs[0])["object"]["a"] == "}{\"x");
    CHECK(json::parse(docs[1])["object"]["b"][1]["c"] == "]");
    CHECK(json::parse(docs[2])["type"] == "BOOKMARK");
    CHECK(s.pending_bytes() == 0);
  }
}

TEST_CASE("watch events parse, and errors carry their Status code", "[kube][watch]") {
  auto added = parse_watch_event(event("ADDED", "web", "12"));
  REQUIRE(added);
  CHECK(added->type == WatchEventType::k_added);
  CHECK(added->resource_version() == "12");
  auto gone = parse_watch_event(
      R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}})");
  REQUIRE(gone);
  CHECK(gone->error_code() == 410);
  CHECK_FALSE(parse_watch_event(R"({"type":"SOMETHING","object":{}})"));
  CHECK_FALSE(parse_watch_event(R"({"object":{}})"));
  CHECK_FALSE(parse_watch_event("not json"));
  const auto q = watch_query({"app=web", "", 500}, "77", true, std::chrono::seconds(60));
  CHECK(q == Query{{"labelSelector", "app=web"},
                   {"watch", "1"},
                   {"resourceVersion", "77"},
                   {"allowWatchBookmarks", "true"},
                   {"timeoutSeconds", "60"}});
}

TEST_CASE("a streamed request hands pieces over as they arrive and can be cancelled",
          "[kube][watch]") {
  std::atomic<bool> release{false};
  StreamServer server([&](const std::string&, const StreamServer::Conn& c) {
    c.start_chunked();
    c.chunk("first\n");
    eventually([&] { return release.load(); }, milliseconds(10000));
    c.chunk("second\n");
    c.end_chunked();
  });
  auto client = client_for(server.url());
  std::mutex m;
  std::string got;
  std::atomic<bool> cancel{false};
  Request r;
  r.path = "/api/v1/services";
  r.on_data = [&](std::string_view d) {
    std::lock_guard lock(m);
    got += d;
    return true;
  };
  r.cancel = &cancel;
  auto pending = std::async(std::launch::async, [&] { return client->send(r); });
  // The first piece arrives while the answer is still open.
  REQUIRE(eventually([&] {
    std::lock_guard lock(m);
    return got == "first\n";
  }));
  const auto t0 = std::chrono::steady_clock::now();
  cancel = true;
  auto result = pending.get();
  CHECK(std::chrono::steady_clock::now() - t0 < milliseconds(1000));
  CHECK(result); // a cancelled stream ends as a success
  CHECK(result->body.empty());
  release = true;
}

TEST_CASE("the limiter halves on 429 once per burst and grows back", "[kube][watch]") {
  ConcurrencyLimiter l(32);
  CHECK(l.limit() == 32);
  l.on_throttled();
  CHECK(l.limit() == 16);
  l.on_throttled(); // the same burst: ignored
  CHECK(l.limit() == 16);
  std::this_thread::sleep_for(ConcurrencyLimiter::k_cut_interval + milliseconds(20));
  l.on_throttled();
  CHECK(l.limit() == 8);
  CHECK(l.cuts() == 2);
  for (int i = 0; i < 16; ++i) {
    l.on_success();
  }
  CHECK(l.limit() >= 9); // about one slot per full window of successes
  CHECK(l.limit() <= 10);
  for (int i = 0; i < 1000; ++i) {
    l.on_success();
  }
  CHECK(l.limit() == 32); // never above the maximum

  // acquire blocks at the limit.
  ConcurrencyLimiter one(1);
  one.acquire();
  std::atomic<bool> got{false};
  std::thread t([&] {
    one.acquire();
    got = true;
    one.release();
  });
  std::this_thread::sleep_for(milliseconds(50));
  CHECK_FALSE(got);
  one.release();
  t.join();
  CHECK(got);
}

TEST_CASE("a reflector lists, watches, resumes from the last version and relists after 410",
          "[kube][watch]") {
  std::atomic<int> watches{0};
  std::atomic<int> lists{0};
  StreamServer server([&](const std::string& target, const StreamServer::Conn& c) {
    if (!has_param(target, "watch=1")) {
      // Lists: the first at version 100, the relist (after 410) at 300.
      const int n = ++lists;
      c.whole(200, n == 1 ? list_body({"a", "b"}, "100") : list_body({"a", "c", "d"}, "300"));
      return;
    }
    const int n = ++watches;
    c.start_chunked();
    if (n == 1) {
      CHECK(has_param(target, "resourceVersion=100"));
      CHECK(has_param(target, "allowWatchBookmarks=true"));
      // Split mid-event: the client must join the pieces.
      const std::string e = event("ADDED", "c", "101");
      c.chunk(e.substr(0, 10));
      c.chunk(e.substr(10) + event("MODIFIED", "a", "102"));
      c.chunk(
          R"({"type":"BOOKMARK","object":{"kind":"Service","metadata":{"resourceVersion":"150"}}})"
          "\n");
      c.end_chunked(); // a clean end (timeoutSeconds): watch again from 150
    } else if (n == 2) {
      CHECK(has_param(target, "resourceVersion=150"));
      c.chunk(event("DELETED", "b", "151"));
      // hang up without the last chunk: a broken stream, resumed from 151
    } else if (n == 3) {
      CHECK(has_param(target, "resourceVersion=151"));
      c.chunk(R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}})"
              "\n");
      c.end_chunked();
    } else {
      CHECK(has_param(target, "resourceVersion=300"));
      c.chunk(event("ADDED", "e", "301"));
      std::this_thread::sleep_for(milliseconds(300));
      c.end_chunked();
    }
  });
  auto client = client_for(server.url());
  Seen seen;
  ReflectorOptions opts;
  opts.initial_backoff = milliseconds(10);
  opts.max_backoff = milliseconds(50);
  Reflector r(*client, {"", "v1", "services", "dev", "", ""}, opts, seen.handlers());
  std::atomic<bool> stop{false};
  std::thread runner([&] { CHECK(r.run(stop)); });
  const std::vector<std::string> want{"list a b @100", "ADDED c 101",     "MODIFIED a 102",
                                      "DELETED b 151", "list a c d @300", "ADDED e 301"};
  CHECK(eventually([&] { return seen.snapshot().size() >= want.size(); }));
  stop = true;
  runner.join();
  auto got = seen.snapshot();
  got.resize(std::min(got.size(), want.size()));
  CHECK(got == want);
  const auto stats = r.stats();
  CHECK(stats.lists == 2);
  CHECK(stats.gone == 1);
  CHECK(stats.bookmarks == 1);
  CHECK(stats.failures >= 1); // the broken stream
  CHECK(server.targets().front().find("/api/v1/namespaces/dev/services") == 0);
}

TEST_CASE("a reflector backs off on failures and stops when its error handler says so",
          "[kube][watch]") {
  std::atomic<int> calls{0};
  StreamServer server([&](const std::string&, const StreamServer::Conn& c) {
    ++calls;
    c.whole(calls < 3 ? 503 : 403,
            R"({"kind":"Status","status":"Failure","reason":"Forbidden","code":403})");
  });
  auto client = client_for(server.url());
  ReflectorOptions opts;
  opts.initial_backoff = milliseconds(20);
  opts.max_backoff = milliseconds(40);
  ReflectorHandlers h;
  int errors = 0;
  h.error = [&](const ApiError& e) {
    ++errors;
    return !e.forbidden(); // 503s are retried; a 403 stops the reflector
  };
  Reflector r(*client, {"", "v1", "services", "", "", ""}, opts, h);
  std::atomic<bool> stop{false};
  auto result = r.run(stop);
  CHECK_FALSE(result);
  CHECK(errors == 3);
  CHECK(calls == 3);
}

TEST_CASE("a reflector relists when the watch request itself answers 410 Gone", "[kube][watch]") {
  std::atomic<int> lists{0};
  std::atomic<int> watches{0};
  StreamServer server([&](const std::string& target, const StreamServer::Conn& c) {
    if (!has_param(target, "watch=1")) {
      const int n = ++lists;
      c.whole(200, list_body({"a"}, n == 1 ? "10" : "20"));
      return;
    }
    if (++watches == 1) {
      c.whole(410, R"({"kind":"Status","status":"Failure","reason":"Expired","code":410})");
      return;
    }
    CHECK(has_param(target, "resourceVersion=20"));
    c.start_chunked();
    c.chunk(event("ADDED", "b", "21"));
    std::this_thread::sleep_for(milliseconds(200));
    c.end_chunked();
  });
  auto client = client_for(server.url());
  Seen seen;
  ReflectorOptions opts;
  opts.initial_backoff = milliseconds(10);
  Reflector r(*client, {"", "v1", "services", "", "", ""}, opts, seen.handlers());
  std::atomic<bool> stop{false};
  std::thread runner([&] { CHECK(r.run(stop)); });
  CHECK(eventually([&] { return seen.snapshot().size() >= 3; }));
  stop = true;
  runner.join();
  auto got = seen.snapshot();
  got.resize(3);
  CHECK(got == std::vector<std::string>{"list a @10", "list a @20", "ADDED b 21"});
  CHECK(r.stats().gone == 1);
}
