#pragma once
// What -vvv shows of a request's or a response's body: Secrets' values, tokens and private keys
// replaced by "<redacted>", and long bodies cut short.

#include <cstddef>
#include <string>
#include <string_view>

namespace meshctl::kube {

/// The most of a body a -vvv line shows.
inline constexpr std::size_t k_body_log_limit = 4096;

/// `body` for a log line. A JSON body is read: the values under `data` and `stringData` of every
/// object of kind Secret (lists included), a TokenReview's `spec.token` and a TokenRequest's
/// `status.token` become "<redacted>"; then redact() scrubs registered secrets, bearer tokens and
/// private key blocks. What is longer than `limit` is cut there with "… (N bytes)"; a body that is
/// not JSON and longer than `limit` is not shown at all (it cannot be scrubbed by kind).
std::string loggable_body(std::string_view body, std::size_t limit = k_body_log_limit);

} // namespace meshctl::kube
