#include "kube/exec.hpp"
#include "kube/websocket.hpp"
#include "support/testing.hpp"

using namespace meshctl;
using namespace meshctl::kube;
using namespace meshctl::kube::ws;

namespace {

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (const int v : values) {
    out += static_cast<char>(v);
  }
  return out;
}

std::vector<Message> read_all(MessageReader& reader) {
  std::vector<Message> out;
  while (true) {
    auto m = reader.next();
    REQUIRE(m);
    if (!m->has_value()) {
      return out;
    }
    out.push_back(std::move(**m));
  }
}

} // namespace

TEST_CASE("frames encode as RFC 6455 says (its own examples)", "[kube]") {
  // RFC 6455 §5.7: an unmasked "Hello" and the same masked with 37 fa 21 3d.
  CHECK(encode_frame({true, Opcode::k_text, "Hello"}, std::nullopt) ==
        bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  CHECK(encode_frame({true, Opcode::k_text, "Hello"}, MaskKey{0x37, 0xfa, 0x21, 0x3d}) ==
        bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
  // A fragmented unmasked text message: "Hel" then "lo".
  CHECK(encode_frame({false, Opcode::k_text, "Hel"}, std::nullopt) ==
        bytes({0x01, 0x03, 0x48, 0x65, 0x6c}));
  CHECK(encode_frame({true, Opcode::k_continuation, "lo"}, std::nullopt) ==
        bytes({0x80, 0x02, 0x6c, 0x6f}));
  // 256 bytes use the 16-bit length, 65536 the 64-bit one.
  const auto f256 = encode_frame({true, Opcode::k_binary, std::string(256, 'x')}, std::nullopt);
  CHECK(f256.substr(0, 4) == bytes({0x82, 0x7E, 0x01, 0x00}));
  CHECK(f256.size() == 4 + 256);
  const auto f64k = encode_frame({true, Opcode::k_binary, std::string(65536, 'x')}, std::nullopt);
  CHECK(f64k.substr(0, 10) == bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}));
  CHECK(f64k.size() == 10 + 65536);
}

TEST_CASE("frames round-trip masked and unmasked at every length class", "[kube]") {
  for (const std::size_t size : {0UL, 1UL, 125UL, 126UL, 127UL, 65535UL, 65536UL, 70000UL}) {
    std::string payload(size, '\0');
    for (std::size_t i = 0; i < size; ++i) {
      payload[i] = static_cast<char>(i * 7 + 3);
    }
    for (const bool masked : {false, true}) {
      const auto mask = masked ? std::optional<MaskKey>(make_mask()) : std::nullopt;
      const std::string wire = encode_frame({true, Opcode::k_binary, payload}, mask);
      const auto d = decode_frame(wire, 1U << 20U);
      REQUIRE(d);
      REQUIRE(d->has_value());
      CHECK((*d)->frame.payload == payload);
      CHECK((*d)->masked == masked);
      CHECK((*d)->size == wire.size());
      // Any strict prefix is incomplete, never an error.
      for (const std::size_t cut :
           {std::size_t{0}, std::size_t{1}, wire.size() / 2, wire.size() - 1}) {
        if (cut < wire.size()) {
          const auto partial = decode_frame(std::string_view(wire).substr(0, cut), 1U << 20U);
          REQUIRE(partial);
          CHECK_FALSE(partial->has_value());
        }
      }
    }
  }
}

TEST_CASE("protocol violations are errors", "[kube]") {
  auto error_of = [](const std::string& wire) {
    const auto d = decode_frame(wire, 1000);
    REQUIRE_FALSE(d);
    return d.error().message();
  };
  CHECK(error_of(bytes({0xC2, 0x00})).find("reserved bits") != std::string::npos);
  CHECK(error_of(bytes({0x83, 0x00})).find("unknown opcode") != std::string::npos);
  CHECK(error_of(bytes({0x09, 0x00})).find("fragmented control") != std::string::npos);
  CHECK(error_of(bytes({0x89, 0x7E, 0x00, 0x7E})).find("125") != std::string::npos);
  CHECK(error_of(bytes({0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 1})).find("most significant") !=
        std::string::npos);
  CHECK(error_of(bytes({0x82, 0x7E, 0x10, 0x00})).find("exceeds") != std::string::npos);
}

TEST_CASE("the reader joins fragments and lets control frames through in between", "[kube]") {
  MessageReader reader;
  std::string wire;
  wire += encode_frame({false, Opcode::k_binary, bytes({1}) + "hel"}, std::nullopt);
  wire += encode_frame({true, Opcode::k_ping, "are you there"}, std::nullopt);
  wire += encode_frame({false, Opcode::k_continuation, "lo "}, std::nullopt);
  wire += encode_frame({true, Opcode::k_pong, ""}, std::nullopt);
  wire += encode_frame({true, Opcode::k_continuation, "world"}, std::nullopt);
  wire += encode_frame({true, Opcode::k_binary, bytes({2}) + "err"}, std::nullopt);
  wire += encode_frame({true, Opcode::k_close, close_payload(1000, "")}, std::nullopt);
  // Fed one byte at a time: nothing may depend on how reads are split.
  std::vector<Message> got;
  for (const char c : wire) {
    reader.feed(std::string_view(&c, 1));
    for (auto& m : read_all(reader)) {
      got.push_back(std::move(m));
    }
  }
  REQUIRE(got.size() == 5);
  CHECK(got[0].opcode == Opcode::k_ping);
  CHECK(got[0].payload == "are you there");
  CHECK(got[1].opcode == Opcode::k_pong);
  CHECK(got[2].opcode == Opcode::k_binary);
  CHECK(got[2].payload == bytes({1}) + "hello world");
  CHECK(got[3].payload == bytes({2}) + "err");
  CHECK(got[4].opcode == Opcode::k_close);
  CHECK(parse_close_payload(got[4].payload).first == 1000);
}

TEST_CASE("the reader refuses masked server frames and broken fragment sequences", "[kube]") {
  {
    MessageReader reader;
    reader.feed(encode_frame({true, Opcode::k_binary, "x"}, make_mask()));
    const auto m = reader.next();
    REQUIRE_FALSE(m);
    CHECK(m.error().message().find("masked") != std::string::npos);
  }
  {
    MessageReader reader(1 << 20, /*allow_masked=*/true);
    reader.feed(encode_frame({true, Opcode::k_binary, "x"}, make_mask()));
    CHECK(reader.next().value()->payload == "x");
  }
  {
    MessageReader reader;
    reader.feed(encode_frame({true, Opcode::k_continuation, "x"}, std::nullopt));
    CHECK_FALSE(reader.next());
  }
  {
    MessageReader reader;
    reader.feed(encode_frame({false, Opcode::k_binary, "a"}, std::nullopt));
    reader.feed(encode_frame({true, Opcode::k_binary, "b"}, std::nullopt));
    CHECK_FALSE(reader.next());
  }
  {
    MessageReader reader(10);
    reader.feed(encode_frame({false, Opcode::k_binary, "123456"}, std::nullopt));
    reader.feed(encode_frame({true, Opcode::k_continuation, "789012"}, std::nullopt));
    const auto m = reader.next();
    REQUIRE_FALSE(m);
    CHECK(m.error().message().find("limit") != std::string::npos);
  }
}

TEST_CASE("close payloads carry a code and a reason", "[kube]") {
  CHECK(close_payload(1000, "") == bytes({0x03, 0xE8}));
  CHECK(parse_close_payload(close_payload(1011, "internal error")) ==
        std::pair<std::uint16_t, std::string>{1011, "internal error"});
  CHECK(parse_close_payload("").first == 1005);
}

TEST_CASE("the upgrade handshake: request, accept key and subprotocol", "[kube]") {
  // RFC 6455 §1.3's example key and answer.
  CHECK(accept_for_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  const std::string key = make_key();
  CHECK(key.size() == 24);
  CHECK(key != make_key());
  CHECK(base64("user:pass") == "dXNlcjpwYXNz");

  const std::string req =
      upgrade_request("/api/v1/namespaces/dev/pods/p/exec?command=ls&stdout=true", "10.0.0.1:6443",
                      key, exec_protocols(), {{"Authorization", "Bearer abc"}});
  CHECK(req.rfind("GET /api/v1/namespaces/dev/pods/p/exec?command=ls&stdout=true HTTP/1.1\r\n"
                  "Host: 10.0.0.1:6443\r\n",
                  0) == 0);
  CHECK(req.find("Sec-WebSocket-Protocol: v5.channel.k8s.io, v4.channel.k8s.io\r\n") !=
        std::string::npos);
  CHECK(req.find("Sec-WebSocket-Key: " + key + "\r\n") != std::string::npos);
  CHECK(req.find("Authorization: Bearer abc\r\n") != std::string::npos);
  CHECK(req.size() > 4);
  CHECK(req.substr(req.size() - 4) == "\r\n\r\n");

  const std::string answer = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                             "Connection: Upgrade\r\nSec-WebSocket-Accept: " +
                             accept_for_key(key) +
                             "\r\nSec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n" +
                             bytes({0x82, 0x01, 0x03});
  const auto parsed = parse_response_head(answer);
  REQUIRE(parsed);
  REQUIRE(parsed->has_value());
  const auto& [head, used] = **parsed;
  CHECK(head.status == 101);
  CHECK(head.reason == "Switching Protocols");
  CHECK(head.header("sec-websocket-protocol") == "v4.channel.k8s.io");
  CHECK(answer.substr(used) == bytes({0x82, 0x01, 0x03}));
  CHECK(check_upgrade(head, key, exec_protocols()).value() == "v4.channel.k8s.io");

  CHECK_FALSE(check_upgrade(head, make_key(), exec_protocols())); // wrong accept
  auto no_protocol = head;
  no_protocol.headers.pop_back();
  const auto none = check_upgrade(no_protocol, key, exec_protocols());
  REQUIRE_FALSE(none);
  CHECK(none.error().message().find("no streaming protocol") != std::string::npos);

  CHECK_FALSE(parse_response_head("HTTP/1.1 101 Switching")->has_value()); // incomplete
  CHECK_FALSE(parse_response_head("SSH-2.0-OpenSSH\r\n\r\n"));
  const auto forbidden = parse_response_head(
      "HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
  REQUIRE(forbidden);
  CHECK((*forbidden)->first.status == 403);
}

TEST_CASE("exec queries list the command one argument per parameter", "[kube]") {
  ExecRequest r;
  r.container = "istio-proxy";
  r.command = {"pilot-agent", "request", "GET", "config_dump?include_eds=true"};
  CHECK(encode_query(exec_query(r)) ==
        "container=istio-proxy&command=pilot-agent&command=request&command=GET&command="
        "config_dump%3Finclude_eds%3Dtrue&stdout=true&stderr=true");
  r.container.clear();
  r.command = {"cat"};
  r.stdin_data = "x";
  CHECK(encode_query(exec_query(r)) == "command=cat&stdin=true&stdout=true&stderr=true");
}

TEST_CASE("channel demux sorts output and bounds it", "[kube]") {
  ChannelDemux demux(16);
  REQUIRE(demux.on_message(bytes({1}) + "out1 "));
  REQUIRE(demux.on_message(bytes({2}) + "err"));
  REQUIRE(demux.on_message(bytes({1}) + "out2"));
  REQUIRE(demux.on_message(bytes({1}))); // an empty first message announces the channel
  REQUIRE(demux.on_message(""));
  REQUIRE(demux.on_message(bytes({255, 0}))); // v5 close signal
  REQUIRE(demux.on_message(bytes({4}) + "{\"Width\":80}"));
  CHECK(demux.out() == "out1 out2");
  CHECK(demux.err() == "err");
  CHECK(demux.error_channel().empty());
  const auto over = demux.on_message(bytes({1}) + "this is too much");
  REQUIRE_FALSE(over);
  CHECK(over.error().message().find("exceeds 16 bytes") != std::string::npos);
}

TEST_CASE("the error channel's Status gives the exit code", "[kube]") {
  CHECK(exit_code_from_status(R"({"metadata":{},"status":"Success"})").value() == 0);
  CHECK(exit_code_from_status("").value() == 0);
  CHECK(
      exit_code_from_status(
          R"({"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}})")
          .value() == 3);
  const auto missing = exit_code_from_status(
      R"({"metadata":{},"status":"Failure","message":"Internal error occurred: error executing command in container: failed to exec in container: failed to start exec \"abc\": OCI runtime exec failed: exec failed: unable to start container process: exec: \"nope\": executable file not found in $PATH: unknown","reason":"InternalError","details":{"causes":[{"message":"error executing command in container: failed to exec in container"}]},"code":500})");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().reason == "InternalError");
  CHECK(missing.error().error.message().find("executable file not found") != std::string::npos);
  CHECK(missing.error().error.hint().find("does not exist") != std::string::npos);
  CHECK_FALSE(exit_code_from_status("not json"));
  CHECK_FALSE(exit_code_from_status(
      R"({"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"x"}]}})"));
}

TEST_CASE("chunked bodies decode", "[kube]") {
  CHECK(decode_chunked("5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n") == "hello world");
  CHECK_FALSE(decode_chunked("5\r\nhel"));
  CHECK_FALSE(decode_chunked("5\r\nhello\r\n"));
  CHECK(decode_chunked("0\r\n\r\n") == "");
}
