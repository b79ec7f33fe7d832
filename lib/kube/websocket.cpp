#include "kube/websocket.hpp"

#include "core/base64.hpp"
#include "core/strings.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace meshctl::kube::ws {
namespace {

constexpr std::size_t k_max_head = 64U << 10U;

tl::unexpected<Error> protocol_error(std::string_view what) {
  return fail(fmt::format("WebSocket protocol error: {}", what),
              "the API server (or a proxy in between) broke the exec stream; try again");
}

// Whether a comma-separated header value holds `token` (case-insensitive).
bool has_token(std::string_view value, std::string_view token) {
  std::size_t start = 0;
  while (start <= value.size()) {
    const std::size_t comma = std::min(value.find(',', start), value.size());
    if (iequals(trim(value.substr(start, comma - start)), token)) {
      return true;
    }
    start = comma + 1;
  }
  return false;
}

std::string base64(const unsigned char* data, std::size_t size) {
  return base64_encode(std::string_view(reinterpret_cast<const char*>(data), size));
}

void random_bytes(unsigned char* out, std::size_t size) {
  if (RAND_bytes(out, static_cast<int>(size)) != 1) {
    throw std::runtime_error("OpenSSL RAND_bytes failed");
  }
}

bool valid_opcode(std::uint8_t op) {
  return op == 0x0 || op == 0x1 || op == 0x2 || op == 0x8 || op == 0x9 || op == 0xA;
}

} // namespace

std::string encode_frame(const Frame& frame, const std::optional<MaskKey>& mask) {
  std::string out;
  const std::size_t len = frame.payload.size();
  out.reserve(len + 14);
  out += static_cast<char>((frame.fin ? 0x80U : 0U) | static_cast<std::uint8_t>(frame.opcode));
  const std::uint8_t mask_bit = mask ? 0x80U : 0U;
  if (len < 126) {
    out += static_cast<char>(mask_bit | static_cast<std::uint8_t>(len));
  } else if (len <= 0xFFFF) {
    out += static_cast<char>(mask_bit | 126U);
    out += static_cast<char>((len >> 8U) & 0xFFU);
    out += static_cast<char>(len & 0xFFU);
  } else {
    out += static_cast<char>(mask_bit | 127U);
    for (int shift = 56; shift >= 0; shift -= 8) {
      out += static_cast<char>((static_cast<std::uint64_t>(len) >> static_cast<unsigned>(shift)) &
                               0xFFU);
    }
  }
  if (!mask) {
    out += frame.payload;
    return out;
  }
  for (const auto b : *mask) {
    out += static_cast<char>(b);
  }
  const std::size_t start = out.size();
  out += frame.payload;
  for (std::size_t i = 0; i < len; ++i) {
    out[start + i] = static_cast<char>(static_cast<std::uint8_t>(out[start + i]) ^ (*mask)[i % 4]);
  }
  return out;
}

Result<std::optional<DecodedFrame>> decode_frame(std::string_view data, std::size_t max_payload) {
  if (data.size() < 2) {
    return std::nullopt;
  }
  const auto b0 = static_cast<std::uint8_t>(data[0]);
  const auto b1 = static_cast<std::uint8_t>(data[1]);
  if ((b0 & 0x70U) != 0) {
    return protocol_error("reserved bits set (no extension was negotiated)");
  }
  const std::uint8_t op = b0 & 0x0FU;
  if (!valid_opcode(op)) {
    return protocol_error(fmt::format("unknown opcode {:#x}", op));
  }
  DecodedFrame d;
  d.frame.fin = (b0 & 0x80U) != 0;
  d.frame.opcode = static_cast<Opcode>(op);
  d.masked = (b1 & 0x80U) != 0;
  std::uint64_t len = b1 & 0x7FU;
  std::size_t pos = 2;
  if (len == 126) {
    if (data.size() < 4) {
      return std::nullopt;
    }
    len = (static_cast<std::uint64_t>(static_cast<std::uint8_t>(data[2])) << 8U) |
          static_cast<std::uint8_t>(data[3]);
    pos = 4;
  } else if (len == 127) {
    if (data.size() < 10) {
      return std::nullopt;
    }
    len = 0;
    for (std::size_t i = 2; i < 10; ++i) {
      len = (len << 8U) | static_cast<std::uint8_t>(data[i]);
    }
    if ((len >> 63U) != 0) {
      return protocol_error("64-bit payload length with the most significant bit set");
    }
    pos = 10;
  }
  if (is_control(d.frame.opcode)) {
    if (!d.frame.fin) {
      return protocol_error("fragmented control frame");
    }
    if (len > 125) {
      return protocol_error("control frame longer than 125 bytes");
    }
  }
  if (len > max_payload) {
    return protocol_error(
        fmt::format("frame of {} bytes exceeds the limit of {}", len, max_payload));
  }
  MaskKey key{};
  if (d.masked) {
    if (data.size() < pos + 4) {
      return std::nullopt;
    }
    for (std::size_t i = 0; i < 4; ++i) {
      key[i] = static_cast<std::uint8_t>(data[pos + i]);
    }
    pos += 4;
  }
  const auto n = static_cast<std::size_t>(len);
  if (data.size() - pos < n) {
    return std::nullopt;
  }
  d.frame.payload.assign(data.substr(pos, n));
  if (d.masked) {
    for (std::size_t i = 0; i < n; ++i) {
      d.frame.payload[i] =
          static_cast<char>(static_cast<std::uint8_t>(d.frame.payload[i]) ^ key[i % 4]);
    }
  }
  d.size = pos + n;
  return d;
}

Result<std::optional<Message>> MessageReader::next() {
  while (true) {
    auto decoded = decode_frame(std::string_view(m_buffer).substr(m_offset), m_max);
    if (!decoded) {
      return tl::make_unexpected(decoded.error());
    }
    if (!decoded->has_value()) {
      // Drop consumed bytes so the buffer does not grow with the whole stream.
      m_buffer.erase(0, m_offset);
      m_offset = 0;
      return std::nullopt;
    }
    DecodedFrame d = std::move(**decoded);
    m_offset += d.size;
    if (d.masked && !m_allow_masked) {
      return protocol_error("the server sent a masked frame");
    }
    Frame& f = d.frame;
    if (is_control(f.opcode)) {
      return Message{f.opcode, std::move(f.payload)};
    }
    if (f.opcode == Opcode::k_continuation) {
      if (!m_partial_opcode) {
        return protocol_error("continuation frame without a message to continue");
      }
      if (m_partial.size() + f.payload.size() > m_max) {
        return protocol_error(fmt::format("message exceeds the limit of {} bytes", m_max));
      }
      m_partial += f.payload;
      if (f.fin) {
        Message m{*m_partial_opcode, std::move(m_partial)};
        m_partial.clear();
        m_partial_opcode.reset();
        return m;
      }
      continue;
    }
    if (m_partial_opcode) {
      return protocol_error("a new data message started before the previous one ended");
    }
    if (f.fin) {
      return Message{f.opcode, std::move(f.payload)};
    }
    m_partial_opcode = f.opcode;
    m_partial = std::move(f.payload);
  }
}

std::string close_payload(std::uint16_t code, std::string_view reason) {
  std::string out;
  out += static_cast<char>((code >> 8U) & 0xFFU);
  out += static_cast<char>(code & 0xFFU);
  out += reason.substr(0, 123);
  return out;
}

std::pair<std::uint16_t, std::string> parse_close_payload(std::string_view payload) {
  if (payload.size() < 2) {
    return {1005, ""};
  }
  const auto code = static_cast<std::uint16_t>(
      (static_cast<unsigned>(static_cast<std::uint8_t>(payload[0])) << 8U) |
      static_cast<std::uint8_t>(payload[1]));
  return {code, std::string(payload.substr(2))};
}

std::string base64(std::string_view data) {
  return base64_encode(data);
}

std::string make_key() {
  std::array<unsigned char, 16> nonce{};
  random_bytes(nonce.data(), nonce.size());
  return base64(nonce.data(), nonce.size());
}

MaskKey make_mask() {
  MaskKey key{};
  random_bytes(key.data(), key.size());
  return key;
}

std::string accept_for_key(std::string_view key) {
  const std::string input = std::string(key) + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(input.data(), input.size(), digest.data(), &size, EVP_sha1(), nullptr) != 1) {
    throw std::runtime_error("OpenSSL SHA-1 failed");
  }
  return base64(digest.data(), size);
}

std::string ResponseHead::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) {
      return v;
    }
  }
  return {};
}

Result<std::optional<std::pair<ResponseHead, std::size_t>>>
parse_response_head(std::string_view data) {
  const std::size_t end = data.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (data.size() > k_max_head) {
      return fail("the API server's response headers exceed 64 KiB");
    }
    return std::nullopt;
  }
  const std::string_view head = data.substr(0, end);
  ResponseHead out;
  std::size_t line_end = head.find("\r\n");
  const std::string_view status_line = head.substr(0, line_end);
  // "HTTP/1.1 101 Switching Protocols"
  if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12 || status_line[8] != ' ') {
    return fail(fmt::format("not an HTTP/1.x response: \"{}\"", status_line.substr(0, 60)),
                "the server at this address did not answer like a Kubernetes API server");
  }
  const std::string_view code = status_line.substr(9, 3);
  if (!std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return fail(fmt::format("bad HTTP status line: \"{}\"", status_line.substr(0, 60)));
  }
  out.status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
  out.reason = std::string(trim(status_line.substr(12)));
  while (line_end != std::string_view::npos) {
    const std::size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string_view line = head.substr(start, line_end - start);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return fail(fmt::format("bad HTTP header line: \"{}\"", line.substr(0, 60)));
    }
    out.headers.emplace_back(std::string(trim(line.substr(0, colon))),
                             std::string(trim(line.substr(colon + 1))));
  }
  return std::make_pair(std::move(out), end + 4);
}

std::string upgrade_request(std::string_view path_and_query, std::string_view host,
                            std::string_view key, const std::vector<std::string>& protocols,
                            const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string out = fmt::format("GET {} HTTP/1.1\r\nHost: {}\r\n", path_and_query, host);
  out += "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n";
  out += fmt::format("Sec-WebSocket-Key: {}\r\n", key);
  out += fmt::format("Sec-WebSocket-Protocol: {}\r\n", fmt::join(protocols, ", "));
  for (const auto& [k, v] : headers) {
    out += fmt::format("{}: {}\r\n", k, v);
  }
  out += "\r\n";
  return out;
}

Result<std::string> check_upgrade(const ResponseHead& head, std::string_view key,
                                  const std::vector<std::string>& offered) {
  if (head.status != 101) {
    return fail(
        fmt::format("the server did not switch protocols (HTTP {} {})", head.status, head.reason));
  }
  if (!iequals(head.header("Upgrade"), "websocket") ||
      !has_token(head.header("Connection"), "upgrade")) {
    return fail("the server's 101 answer is not a WebSocket upgrade");
  }
  if (head.header("Sec-WebSocket-Accept") != accept_for_key(key)) {
    return fail("the server's Sec-WebSocket-Accept does not match the key sent",
                "a proxy between meshctl and the API server may be tampering with the stream");
  }
  const std::string chosen = head.header("Sec-WebSocket-Protocol");
  if (std::find(offered.begin(), offered.end(), chosen) == offered.end()) {
    return fail(
        fmt::format("the API server agreed to no streaming protocol meshctl speaks "
                    "(offered {}, got \"{}\")",
                    fmt::join(offered, ", "), chosen),
        "the API server (or a proxy in front of it) does not support exec over WebSocket with "
        "v5.channel.k8s.io or v4.channel.k8s.io");
  }
  return chosen;
}

} // namespace meshctl::kube::ws
