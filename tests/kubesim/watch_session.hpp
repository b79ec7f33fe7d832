#pragma once
// The network half of a watch (watch.hpp holds the semantics): a 200 response with chunked
// transfer encoding whose chunks are the watch's events, one JSON object per line, written as they
// are queued; BOOKMARKs on a timer; a clean end (the last chunk) at timeoutSeconds or after an
// ERROR event; the connection closed afterwards. A client that goes away ends the session.
// Included only by server.cpp and watch_session.cpp: it brings Beast in.

#include "watch.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>

#include <memory>
#include <string>

namespace kubesim {

/// Takes over a TLS connection whose request was an accepted watch and streams `watch` on it.
void serve_watch(boost::beast::ssl_stream<boost::beast::tcp_stream>&& stream, unsigned http_version,
                 const std::string& content_type, std::shared_ptr<WatchStream> watch);

} // namespace kubesim
