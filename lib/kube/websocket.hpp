#pragma once
// RFC 6455 WebSocket pieces for the client side of `exec`: frame encoding and decoding, message
// reassembly, and the HTTP/1.1 upgrade handshake. Everything here is pure (bytes in, bytes or
// values out) so it is tested without a network; exec.cpp moves the bytes.
//
// Frame layout (RFC 6455 §5.2): byte 0 = FIN | RSV1-3 | opcode; byte 1 = MASK | 7-bit length,
// where 126 means a 16-bit length follows and 127 a 64-bit one (most significant bit 0); then the
// 4-byte masking key if MASK is set; then the payload, XORed with the key cyclically. A client
// masks every frame it sends with a fresh random key (§5.3) and must fail the connection when a
// server frame is masked (§5.1). Data messages may be split into a first frame and continuation
// frames; control frames (close, ping, pong) are never fragmented, carry at most 125 bytes, and
// may arrive between the fragments of a data message (§5.4).

#include "core/error.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace meshctl::kube::ws {

enum class Opcode : std::uint8_t {
  k_continuation = 0x0,
  k_text = 0x1,
  k_binary = 0x2,
  k_close = 0x8,
  k_ping = 0x9,
  k_pong = 0xA,
};

/// True for close, ping and pong.
constexpr bool is_control(Opcode op) {
  return (static_cast<std::uint8_t>(op) & 0x8) != 0;
}

struct Frame {
  bool fin = true;
  Opcode opcode = Opcode::k_binary;
  std::string payload;
};

using MaskKey = std::array<std::uint8_t, 4>;

/// Encodes a frame; with a key the payload is masked (client to server), without it is not.
std::string encode_frame(const Frame& frame, const std::optional<MaskKey>& mask);

/// A decoded frame and how many input bytes it used.
struct DecodedFrame {
  Frame frame;
  bool masked = false;
  std::size_t size = 0;
};

/// Decodes the frame at the start of `data`: nothing when more bytes are needed, an error for a
/// protocol violation (reserved bits, unknown opcode, oversized or fragmented control frame,
/// 64-bit length with the top bit set) or a payload larger than `max_payload`.
Result<std::optional<DecodedFrame>> decode_frame(std::string_view data, std::size_t max_payload);

/// A complete message: a data message (text or binary, fragments joined) or a control frame.
struct Message {
  Opcode opcode = Opcode::k_binary;
  std::string payload;
};

/// Turns a byte stream from the server into messages. Control frames come out as soon as they are
/// complete, even between fragments of a data message.
class MessageReader {
public:
  /// `max_message` bounds one message's size (a hostile or broken peer cannot exhaust memory);
  /// `allow_masked` accepts masked frames (for tests of the server side; a client refuses them).
  explicit MessageReader(std::size_t max_message = 64U << 20U, bool allow_masked = false)
      : m_max(max_message), m_allow_masked(allow_masked) {}

  /// Appends received bytes.
  void feed(std::string_view bytes) { m_buffer.append(bytes); }
  /// The next complete message, nothing if more bytes are needed, or a protocol error.
  Result<std::optional<Message>> next();

private:
  std::string m_buffer;
  std::size_t m_offset = 0;
  std::optional<Opcode> m_partial_opcode; ///< set while a fragmented message is open
  std::string m_partial;
  std::size_t m_max;
  bool m_allow_masked;
};

/// Close frame payload: 2-byte status code (network order) and a UTF-8 reason.
std::string close_payload(std::uint16_t code, std::string_view reason);
/// Parses a close payload; an empty payload gives code 1005 ("no status received").
std::pair<std::uint16_t, std::string> parse_close_payload(std::string_view payload);

/// Standard base64 with padding (also used for HTTP basic auth).
std::string base64(std::string_view data);

/// A random 16-byte nonce, base64-encoded (Sec-WebSocket-Key).
std::string make_key();
/// A random masking key from a cryptographic source.
MaskKey make_mask();
/// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")), the expected
/// Sec-WebSocket-Accept.
std::string accept_for_key(std::string_view key);

/// The status line and headers of an HTTP/1.1 response.
struct ResponseHead {
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
  /// The first header of that name (case-insensitive), or "".
  [[nodiscard]] std::string header(std::string_view name) const;
};

/// Parses a response head terminated by an empty line: nothing when incomplete, with the number
/// of bytes it used (what follows belongs to the body or the WebSocket stream).
Result<std::optional<std::pair<ResponseHead, std::size_t>>>
parse_response_head(std::string_view data);

/// The GET request that asks for an upgrade to WebSocket, offering `protocols` in order.
/// `headers` are added as given (Authorization, User-Agent, …).
std::string upgrade_request(std::string_view path_and_query, std::string_view host,
                            std::string_view key, const std::vector<std::string>& protocols,
                            const std::vector<std::pair<std::string, std::string>>& headers);

/// Checks a 101 answer: Upgrade/Connection headers, Sec-WebSocket-Accept for `key`, and a
/// subprotocol among `offered`. Returns the chosen subprotocol.
Result<std::string> check_upgrade(const ResponseHead& head, std::string_view key,
                                  const std::vector<std::string>& offered);

} // namespace meshctl::kube::ws
