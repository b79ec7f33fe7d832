#include "watch_session.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http.hpp>

#include <array>

namespace kubesim {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

class WatchSession : public std::enable_shared_from_this<WatchSession> {
public:
  WatchSession(beast::ssl_stream<beast::tcp_stream>&& stream, unsigned version,
               const std::string& content_type, std::shared_ptr<WatchStream> watch)
      : m_stream(std::move(stream)), m_watch(std::move(watch)),
        m_bookmarks(m_stream.get_executor()), m_deadline(m_stream.get_executor()) {
    m_res.version(version);
    m_res.result(http::status::ok);
    m_res.set(http::field::server, "kubesim");
    m_res.set(http::field::content_type, content_type);
    m_res.set(http::field::cache_control, "no-cache, private");
    m_res.keep_alive(false); // the connection ends with the watch
    m_res.chunked(true);
  }

  void run() {
    beast::get_lowest_layer(m_stream).expires_never();
    m_writing = true;
    http::async_write_header(m_stream, m_serializer,
                             [self = shared_from_this()](beast::error_code ec, std::size_t) {
                               self->m_writing = false;
                               if (ec) {
                                 return self->stop();
                               }
                               self->started();
                             });
  }

private:
  void started() {
    std::weak_ptr<WatchSession> weak = weak_from_this();
    auto executor = m_stream.get_executor();
    m_watch->set_wake([weak, executor] {
      net::post(executor, [weak] {
        if (auto self = weak.lock()) {
          self->flush();
        }
      });
    });
    read_until_closed();
    if (m_watch->params().bookmarks) {
      arm_bookmark();
    }
    m_deadline.expires_after(m_watch->params().timeout);
    m_deadline.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) {
        self->m_timed_out = true;
        self->flush();
      }
    });
    flush();
  }

  // A watch request has no more to say; a read completes only when the client hangs up.
  void read_until_closed() {
    m_stream.async_read_some(net::buffer(m_discard),
                             [self = shared_from_this()](beast::error_code ec, std::size_t) {
                               if (ec) {
                                 return self->stop();
                               }
                               self->read_until_closed();
                             });
  }

  void arm_bookmark() {
    m_bookmarks.expires_after(k_bookmark_interval);
    m_bookmarks.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->m_done) {
        return;
      }
      self->m_watch->bookmark(); // wakes flush() through the stream
      self->arm_bookmark();
    });
  }

  void flush() {
    if (m_writing || m_done) {
      return;
    }
    m_out.clear();
    for (auto& f : m_watch->take()) {
      m_out += f;
    }
    if (!m_out.empty()) {
      m_writing = true;
      net::async_write(m_stream, http::make_chunk(net::buffer(m_out)),
                       [self = shared_from_this()](beast::error_code ec, std::size_t) {
                         self->m_writing = false;
                         if (ec) {
                           return self->stop();
                         }
                         self->flush();
                       });
      return;
    }
    if (m_timed_out || m_watch->finished()) {
      finish();
    }
  }

  void finish() {
    m_done = true;
    m_writing = true;
    net::async_write(m_stream, http::make_chunk_last(),
                     [self = shared_from_this()](beast::error_code, std::size_t) {
                       self->m_writing = false;
                       self->stop();
                     });
  }

  void stop() {
    m_done = true;
    m_bookmarks.cancel();
    m_deadline.cancel();
    if (m_closed) {
      return;
    }
    m_closed = true;
    beast::get_lowest_layer(m_stream).expires_after(std::chrono::seconds(5));
    m_stream.async_shutdown([self = shared_from_this()](beast::error_code) {
      beast::error_code ignored;
      beast::get_lowest_layer(self->m_stream).socket().close(ignored);
    });
  }

  beast::ssl_stream<beast::tcp_stream> m_stream;
  std::shared_ptr<WatchStream> m_watch;
  http::response<http::empty_body> m_res;
  http::response_serializer<http::empty_body> m_serializer{m_res};
  net::steady_timer m_bookmarks;
  net::steady_timer m_deadline;
  std::string m_out;
  std::array<char, 512> m_discard{};
  bool m_writing = false;
  bool m_timed_out = false;
  bool m_done = false;
  bool m_closed = false;
};

} // namespace

void serve_watch(beast::ssl_stream<beast::tcp_stream>&& stream, unsigned http_version,
                 const std::string& content_type, std::shared_ptr<WatchStream> watch) {
  std::make_shared<WatchSession>(std::move(stream), http_version, content_type, std::move(watch))
      ->run();
}

} // namespace kubesim
