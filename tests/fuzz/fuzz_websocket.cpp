// Fuzz target: what an API server sends back on exec — the HTTP/1.1 upgrade answer, then
// WebSocket frames (lib/kube/websocket.hpp) — must never crash on any bytes. The first input byte
// picks how the stream is cut into reads, so frames split at every point are tried; the reader
// must give the same messages however the bytes arrive.

#include "kube/websocket.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace ws = meshctl::kube::ws;

// Messages (opcode + payload) until the first error or the end; "error" ends the list on an error.
std::vector<std::string> messages(std::string_view stream, std::size_t chunk) {
  ws::MessageReader reader(1U << 16U);
  std::vector<std::string> out;
  std::size_t fed = 0;
  for (;;) {
    auto next = reader.next();
    if (!next) {
      out.emplace_back("error");
      return out;
    }
    if (*next) {
      out.push_back(std::to_string(static_cast<int>((*next)->opcode)) + ":" + (*next)->payload);
      if ((*next)->opcode == ws::Opcode::k_close) {
        (void)ws::parse_close_payload((*next)->payload);
      }
      continue;
    }
    if (fed >= stream.size()) {
      return out;
    }
    const std::size_t n = std::min(chunk, stream.size() - fed);
    reader.feed(stream.substr(fed, n));
    fed += n;
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::size_t chunk = 1 + data[0] % 16;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);

  if (auto head = ws::parse_response_head(bytes); head && *head) {
    (void)(*head)->first.header("Sec-WebSocket-Protocol");
    (void)ws::check_upgrade((*head)->first,
                            "dGhlIHNhbXBsZSBub25jZQ==", {"v5.channel.k8s.io", "v4.channel.k8s.io"});
  }
  if (auto frame = ws::decode_frame(bytes, 1U << 16U); frame && *frame) {
    if ((*frame)->size == 0 || (*frame)->size > bytes.size()) {
      std::fprintf(stderr, "decode_frame used %zu of %zu bytes\n", (*frame)->size, bytes.size());
      std::abort();
    }
  }
  if (messages(bytes, chunk) != messages(bytes, bytes.size() + 1)) {
    std::fprintf(stderr, "messages depend on how the stream was cut (reads of %zu bytes)\n", chunk);
    std::abort();
  }
  return 0;
}
