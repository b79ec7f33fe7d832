#include "kube/curl.hpp"

#include "core/log.hpp"
#include "core/strings.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>

namespace meshctl::kube::detail {

namespace {

std::string http_version_name(long v) {
  switch (v) {
  case CURL_HTTP_VERSION_1_0:
    return "1.0";
  case CURL_HTTP_VERSION_1_1:
    return "1.1";
  case CURL_HTTP_VERSION_2_0:
    return "2";
  case CURL_HTTP_VERSION_3:
    return "3";
  default:
    return "";
  }
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  if (t->on_data != nullptr) {
    long status = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300) {
      if (!(*t->on_data)(std::string_view(data, n))) {
        t->consumer_stopped = true;
        return 0;
      }
      return n;
    }
  }
  if (t->result.body.size() + n > t->max_body) {
    std::snprintf(t->error_buffer.data(), CURL_ERROR_SIZE,
                  "the response is larger than the limit of %zu bytes", t->max_body);
    return 0; // aborts the transfer with CURLE_WRITE_ERROR
  }
  t->result.body.append(data, n);
  return n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  std::string_view line(data, n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
    line.remove_suffix(1);
  }
  if (line.rfind("HTTP/", 0) == 0) {
    t->result.headers.clear(); // a new response (after 100 Continue or a proxy's CONNECT answer)
    return n;
  }
  const std::size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
      value.remove_prefix(1);
    }
    t->result.headers.emplace_back(to_lower(std::string(line.substr(0, colon))),
                                   std::string(value));
  }
  return n;
}

// Aborts a transfer whose caller cancelled it (libcurl calls this while the transfer runs).
int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* t = static_cast<const Transfer*>(user);
  return t->cancel != nullptr && t->cancel->load() ? 1 : 0;
}

} // namespace

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string Endpoint::url(std::string_view path_and_query) const {
  const bool v6 = url_host.find(':') != std::string::npos;
  return fmt::format("{}://{}{}{}:{}{}{}", scheme, v6 ? "[" : "", url_host, v6 ? "]" : "", port,
                     base_path, path_and_query);
}

Result<Endpoint> make_endpoint(const config::KubeCluster& cluster, const ProxyEnvironment& env) {
  global_init();
  if (cluster.server.empty()) {
    return usage_error("the cluster entry has no server address",
                       "set clusters[].cluster.server in the kubeconfig");
  }
  std::string server = cluster.server;
  if (server.find("://") == std::string::npos) {
    server = "https://" + server; // client-go's default for a bare host:port
  }
  CURLU* u = curl_url();
  if (u == nullptr) {
    return fail("out of memory");
  }
  const auto cleanup = std::unique_ptr<CURLU, decltype(&curl_url_cleanup)>(u, curl_url_cleanup);
  if (curl_url_set(u, CURLUPART_URL, server.c_str(), 0) != CURLUE_OK) {
    return usage_error(fmt::format("the server address \"{}\" is not a valid URL", cluster.server),
                       "use https://HOST:PORT in clusters[].cluster.server");
  }
  auto part = [u](CURLUPart what, unsigned flags) -> std::string {
    char* value = nullptr;
    if (curl_url_get(u, what, &value, flags) != CURLUE_OK || value == nullptr) {
      return {};
    }
    std::string out = value;
    curl_free(value);
    return out;
  };
  Endpoint ep;
  ep.scheme = part(CURLUPART_SCHEME, 0);
  ep.scheme = to_lower(std::move(ep.scheme));
  if (ep.scheme != "https" && ep.scheme != "http") {
    return usage_error(
        fmt::format("the server address \"{}\" is neither https:// nor http://", cluster.server));
  }
  ep.host = part(CURLUPART_HOST, 0);
  if (ep.host.size() >= 2 && ep.host.front() == '[') {
    ep.host = ep.host.substr(1, ep.host.size() - 2);
  }
  const std::string explicit_port = part(CURLUPART_PORT, 0);
  ep.port = std::stoi(part(CURLUPART_PORT, CURLU_DEFAULT_PORT));
  ep.base_path = part(CURLUPART_PATH, 0);
  while (!ep.base_path.empty() && ep.base_path.back() == '/') {
    ep.base_path.pop_back();
  }
  const bool v6 = ep.host.find(':') != std::string::npos;
  const std::string bracketed = v6 ? "[" + ep.host + "]" : ep.host;
  ep.authority = explicit_port.empty() ? bracketed : bracketed + ":" + explicit_port;
  ep.url_host = ep.host;
  if (!cluster.tls_server_name.empty() && ep.scheme == "https") {
    // The URL names the certificate's host (SNI and verification use it); the connection goes to
    // the configured server address.
    ep.url_host = cluster.tls_server_name;
    ep.has_tls_server_name = true;
    ep.connect_to =
        fmt::format("{}:{}:{}:{}", cluster.tls_server_name, ep.port, bracketed, ep.port);
  }
  ep.proxy = select_proxy(ep.scheme, ep.host, ep.port, cluster.proxy_url, env);
  ep.ca_file = cluster.certificate_authority;
  ep.ca_data = cluster.certificate_authority_data;
  ep.insecure = cluster.insecure_skip_tls_verify;
  return ep;
}

void configure_tls_and_proxy(CURL* easy, const Endpoint& ep, const config::Credentials& creds,
                             std::chrono::milliseconds connect_timeout, curl_slist** connect_to) {
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_timeout.count()));
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  // An explicit proxy or "" (no proxy at all): libcurl must not apply its own environment rules.
  curl_easy_setopt(easy, CURLOPT_PROXY, ep.proxy.c_str());
  if (!ep.connect_to.empty()) {
    *connect_to = curl_slist_append(*connect_to, ep.connect_to.c_str());
    curl_easy_setopt(easy, CURLOPT_CONNECT_TO, *connect_to);
  }
  if (ep.insecure) {
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
  } else {
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!ep.ca_data.empty() || !ep.ca_file.empty()) {
      // The kubeconfig's CA is the only trust anchor, as in client-go: no system bundle.
      curl_easy_setopt(easy, CURLOPT_CAPATH, nullptr);
      if (!ep.ca_data.empty()) {
        curl_easy_setopt(easy, CURLOPT_CAINFO, nullptr);
        curl_blob blob{const_cast<char*>(ep.ca_data.data()), ep.ca_data.size(), CURL_BLOB_COPY};
        curl_easy_setopt(easy, CURLOPT_CAINFO_BLOB, &blob);
      } else {
        curl_easy_setopt(easy, CURLOPT_CAINFO, ep.ca_file.c_str());
      }
    }
  }
  if (!creds.client_certificate_pem.empty() && !creds.client_key_pem.empty()) {
    curl_blob cert{const_cast<char*>(creds.client_certificate_pem.data()),
                   creds.client_certificate_pem.size(), CURL_BLOB_COPY};
    curl_blob key{const_cast<char*>(creds.client_key_pem.data()), creds.client_key_pem.size(),
                  CURL_BLOB_COPY};
    curl_easy_setopt(easy, CURLOPT_SSLCERT_BLOB, &cert);
    curl_easy_setopt(easy, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(easy, CURLOPT_SSLKEY_BLOB, &key);
    curl_easy_setopt(easy, CURLOPT_SSLKEYTYPE, "PEM");
  }
}

TransportFailure classify(CURLcode code, std::string_view detail, bool via_proxy) {
  const auto mentions = [detail](std::string_view s) {
    return detail.find(s) != std::string_view::npos;
  };
  // With TLS 1.3 a server rejects a client certificate after the handshake, so libcurl sees the
  // alert while reading; it is a TLS problem, not a broken connection worth retrying.
  if (mentions("alert certificate required") || mentions("alert bad certificate") ||
      mentions("alert unknown ca") || mentions("alert certificate unknown") ||
      mentions("alert certificate expired")) {
    return TransportFailure::k_tls_handshake;
  }
  switch (code) {
  case CURLE_OK:
    return TransportFailure::k_none;
  case CURLE_COULDNT_RESOLVE_HOST:
    return TransportFailure::k_resolve;
  case CURLE_COULDNT_RESOLVE_PROXY:
  case CURLE_PROXY:
    return TransportFailure::k_proxy;
  case CURLE_COULDNT_CONNECT:
    return via_proxy ? TransportFailure::k_proxy : TransportFailure::k_connect;
  case CURLE_OPERATION_TIMEDOUT:
    return TransportFailure::k_timeout;
  case CURLE_RECV_ERROR:
  case CURLE_SEND_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_PARTIAL_FILE:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
    if (via_proxy && mentions("CONNECT")) {
      return TransportFailure::k_proxy;
    }
    return TransportFailure::k_reset;
  case CURLE_PEER_FAILED_VERIFICATION:
    return TransportFailure::k_tls_verify;
  case CURLE_SSL_CONNECT_ERROR:
    return TransportFailure::k_tls_handshake;
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_ENGINE_NOTFOUND:
  case CURLE_SSL_ENGINE_SETFAILED:
  case CURLE_SSL_ENGINE_INITFAILED:
    return TransportFailure::k_tls_config;
  default:
    return TransportFailure::k_other;
  }
}

std::string failure_detail(const std::string& error, long os_errno) {
  if (os_errno == 0) {
    return error;
  }
  const std::string reason = std::strerror(static_cast<int>(os_errno));
  if (error.find(reason) != std::string::npos) {
    return error;
  }
  return error + " (" + reason + ")";
}

Transfer::Transfer() {
  global_init();
  easy = curl_easy_init();
}

Transfer::~Transfer() {
  if (easy != nullptr) {
    curl_easy_cleanup(easy);
  }
  curl_slist_free_all(headers);
  curl_slist_free_all(connect_to);
}

Loop::Loop() {
  global_init();
  m_multi = curl_multi_init();
  // Multiplex HTTP/2 streams over one connection per host (libcurl's default, stated anyway).
  curl_multi_setopt(m_multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
  m_thread = std::thread([this] { run(); });
}

Loop::~Loop() {
  {
    std::lock_guard lock(m_mutex);
    m_stop = true;
  }
  curl_multi_wakeup(m_multi);
  m_thread.join();
  curl_multi_cleanup(m_multi);
}

std::future<TransferResult> Loop::submit(std::unique_ptr<Transfer> transfer) {
  auto future = transfer->promise.get_future();
  {
    std::lock_guard lock(m_mutex);
    if (m_stop) {
      TransferResult r;
      r.code = CURLE_ABORTED_BY_CALLBACK;
      r.error = "the client was shut down";
      transfer->promise.set_value(std::move(r));
      return future;
    }
    m_incoming.push_back(std::move(transfer));
  }
  curl_multi_wakeup(m_multi);
  return future;
}

void Loop::wakeup() {
  curl_multi_wakeup(m_multi);
}

void Loop::finish(CURL* easy, CURLcode code) {
  const auto it = m_active.find(easy);
  if (it == m_active.end()) {
    return;
  }
  std::unique_ptr<Transfer> t = std::move(it->second);
  m_active.erase(it);
  curl_multi_remove_handle(m_multi, easy);
  TransferResult r = std::move(t->result);
  r.code = code;
  if (code != CURLE_OK) {
    r.error = t->error_buffer[0] != '\0' ? std::string(t->error_buffer.data())
                                         : std::string(curl_easy_strerror(code));
  }
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r.status);
  curl_easy_getinfo(easy, CURLINFO_HTTP_VERSION, &r.http_version);
  curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &r.os_errno);
  t->promise.set_value(std::move(r));
}

void Loop::run() {
  while (true) {
    std::vector<std::unique_ptr<Transfer>> incoming;
    {
      std::lock_guard lock(m_mutex);
      incoming.swap(m_incoming);
    }
    for (auto& t : incoming) {
      CURL* easy = t->easy;
      m_active[easy] = std::move(t);
      const CURLMcode rc = curl_multi_add_handle(m_multi, easy);
      if (rc != CURLM_OK) {
        std::snprintf(m_active[easy]->error_buffer.data(), CURL_ERROR_SIZE, "%s",
                      curl_multi_strerror(rc));
        finish(easy, CURLE_FAILED_INIT);
      }
    }
    if (m_stop) {
      break;
    }
    int running = 0;
    curl_multi_perform(m_multi, &running);
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(m_multi, &left)) {
      if (msg->msg == CURLMSG_DONE) {
        finish(msg->easy_handle, msg->data.result);
      }
    }
    curl_multi_poll(m_multi, nullptr, 0, 1000, nullptr);
  }
  // Shutting down: whatever is still queued or in flight ends with an error.
  {
    std::lock_guard lock(m_mutex);
    for (auto& t : m_incoming) {
      TransferResult r;
      r.code = CURLE_ABORTED_BY_CALLBACK;
      r.error = "the client was shut down";
      t->promise.set_value(std::move(r));
    }
    m_incoming.clear();
  }
  while (!m_active.empty()) {
    CURL* easy = m_active.begin()->first;
    std::snprintf(m_active.begin()->second->error_buffer.data(), CURL_ERROR_SIZE,
                  "the client was shut down");
    finish(easy, CURLE_ABORTED_BY_CALLBACK);
  }
}

CurlTransport::CurlTransport(Endpoint endpoint, CurlSettings settings)
    : m_endpoint(std::move(endpoint)), m_settings(std::move(settings)) {}

Exchange CurlTransport::round_trip(const Request& request, const config::Credentials& creds,
                                   std::chrono::milliseconds timeout) {
  Exchange out;
  auto t = std::make_unique<Transfer>();
  CURL* e = t->easy;
  if (e == nullptr) {
    out.failure = TransportFailure::k_other;
    out.error = "libcurl could not make a handle (out of memory)";
    return out;
  }
  const std::string path_and_query =
      request.query.empty() ? request.path : request.path + "?" + encode_query(request.query);
  const std::string url = m_endpoint.url(path_and_query);
  t->max_body = m_settings.max_response;
  configure_tls_and_proxy(e, m_endpoint, creds, m_settings.connect_timeout, &t->connect_to);
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(e, CURLOPT_USERAGENT, m_settings.user_agent.c_str());
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error_buffer.data());
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());

  auto add_header = [&t](const std::string& h) {
    t->headers = curl_slist_append(t->headers, h.c_str());
  };
  add_header("Accept: " + request.accept);
  add_header("Expect:"); // no 100-continue round trip for large bodies
  if (!request.content_type.empty()) {
    add_header("Content-Type: " + request.content_type);
  }
  if (m_endpoint.has_tls_server_name) {
    add_header("Host: " + m_endpoint.authority); // as client-go: Host is the server's address
  }
  if (!creds.bearer_token.empty()) {
    add_header("Authorization: Bearer " + creds.bearer_token);
  } else if (!creds.username.empty()) {
    curl_easy_setopt(e, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    curl_easy_setopt(e, CURLOPT_USERNAME, creds.username.c_str());
    curl_easy_setopt(e, CURLOPT_PASSWORD, creds.password.c_str());
  }
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);

  const bool has_body = !request.body.empty() || request.method == Method::k_post ||
                        request.method == Method::k_put || request.method == Method::k_patch;
  if (request.method == Method::k_head) {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else if (has_body) {
    t->request_body = request.body;
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->request_body.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(t->request_body.size()));
  }
  const std::string_view method = method_name(request.method);
  const std::string custom_method(method);
  if (request.method != Method::k_get && request.method != Method::k_head &&
      request.method != Method::k_post) {
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, custom_method.c_str());
  }
  const bool streaming = static_cast<bool>(request.on_data);
  if (streaming) {
    t->on_data = &request.on_data;
  }
  if (request.cancel != nullptr) {
    t->cancel = request.cancel;
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, t.get());
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
  }

  auto pending = m_loop.submit(std::move(t));
  if (request.cancel != nullptr) {
    while (pending.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
      if (request.cancel->load()) {
        m_loop.wakeup(); // the progress callback then aborts the transfer
      }
    }
  }
  TransferResult r = pending.get();
  const bool stream_ended = streaming && r.status >= 200 && r.status < 300 &&
                            (r.code == CURLE_WRITE_ERROR || r.code == CURLE_ABORTED_BY_CALLBACK);
  if (stream_ended) {
    r.code = CURLE_OK; // the consumer or the caller ended a stream: that is how streams end
  }
  if (r.code != CURLE_OK) {
    out.error = failure_detail(r.error, r.os_errno);
    out.failure = classify(r.code, out.error, !m_endpoint.proxy.empty());
    return out;
  }
  out.status = static_cast<int>(r.status);
  out.body = std::move(r.body);
  out.headers = std::move(r.headers);
  out.http_version = http_version_name(r.http_version);
  return out;
}

} // namespace meshctl::kube::detail
