// JsonReader: how it reads a 200 MB config dump in a fraction of a second and little memory.
//
// A gateway's config_dump is one JSON document of up to hundreds of megabytes, most of it filter
// chains the caller only needs a few strings from. Building a DOM costs several times the file
// size (jq: ~4x); simdjson's On Demand API is fast but indexes the whole document up front, which
// costs 4 bytes per structural character on top of the document (~1.2-1.4x the file in total,
// measured on a synthetic 266 MB gateway dump). This reader borrows simdjson's central idea and
// applies it to a sliding window instead:
//
// 1. Stage one (index_masks) looks at 64 bytes at a time with SIMD compares (AVX-512 or AVX2 when
//    the CPU has them, else SSE2) and builds bit masks of quotes, backslashes and the structural
//    characters { } [ ] : ,. Backslash runs decide which quotes are escaped; a prefix XOR over the
//    unescaped quotes gives the bytes inside strings; structural characters inside strings are
//    dropped. The positions of what remains (every unescaped quote, opening and closing, and every
//    structural character outside strings) go into an index, one window (512 KiB of input) at a
//    time, so the index stays small.
// 2. The pull API walks that index. A string's closing quote is simply the next entry, so strings
//    are read without scanning; skipping an object or array is a loop over index entries counting
//    brackets; a number or literal runs from after the previous token to the next entry. Whitespace
//    between tokens is never scanned on the common paths.
//
// Stage one and its thread live in json_index.cpp.
//
// For documents of 8 MB and more, stage one runs on a second thread (BackgroundIndexer), a few
// windows ahead of the caller, together with the paging work below; on a 260 MB gateway dump that
// takes about a third of the work off the caller's thread.
//
// Memory is a few index windows (a few MB) plus whatever the caller keeps. When the document is a
// memory-mapped file the reader reports its progress, and the owner maps the pages just ahead in
// one go and hands the pages behind back to the kernel, so the resident set stays small even
// though the whole file is mapped.
//
// What it does not do: it checks brackets, strings, colons and commas, but not that the bytes
// between tokens are only whitespace, and inside skipped values only brackets and strings are
// checked. That is enough to reject truncated or non-JSON input (an HTML error page, a cut-off
// download) with a precise offset, which is what a diagnostic tool needs.

#include "envoy/json_reader.hpp"

#include "core/shown.hpp"
#include "envoy/json_index.hpp"
#include "envoy/text.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <thread>

namespace meshctl::envoy {

void JsonError::add_outer(std::string_view segment) {
  if (m_path.empty()) {
    m_path = std::string(segment);
  } else if (m_path.front() == '[') {
    m_path = std::string(segment) + m_path;
  } else {
    m_path = std::string(segment) + "." + m_path;
  }
}

namespace {

constexpr std::size_t k_release_step = std::size_t{8} * 1024 * 1024;

bool is_ws(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

bool read_hex4(std::string_view s, std::size_t at, std::uint32_t& out) {
  if (at + 4 > s.size()) {
    return false;
  }
  out = 0;
  for (std::size_t k = 0; k < 4; ++k) {
    const int v = hex_value(s[at + k]);
    if (v < 0) {
      return false;
    }
    out = (out << 4) | static_cast<std::uint32_t>(v);
  }
  return true;
}

// RFC 8259's number grammar, -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, so that a number the
// reader hands out is one every JSON parser reads ("-", "1.2.3" and "01" are not).
bool looks_like_number(std::string_view t) {
  std::size_t i = 0;
  const auto digits = [&] {
    const std::size_t from = i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
      ++i;
    }
    return i > from;
  };
  if (i < t.size() && t[i] == '-') {
    ++i;
  }
  if (i < t.size() && t[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < t.size() && t[i] == '.') {
    ++i;
    if (!digits()) {
      return false;
    }
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) {
      ++i;
    }
    if (!digits()) {
      return false;
    }
  }
  return i == t.size();
}

} // namespace

JsonReader::JsonReader(std::string_view text, Progress progress)
    : m_text(text), m_release(std::move(progress)) {
  if (m_text.size() >= k_background_min && std::thread::hardware_concurrency() > 1) {
    m_background = std::make_unique<BackgroundIndexer>(m_text, m_release, k_window);
    m_release = nullptr; // the indexer thread reports progress from now on
  }
}

JsonReader::~JsonReader() = default;

void JsonReader::fail_at(const std::string& message, std::size_t offset) {
  throw JsonError(message, offset);
}

void JsonReader::fail(const std::string& message) const {
  fail_at(message, m_after);
}

bool JsonReader::refill() {
  if (m_background) {
    return refill_background();
  }
  if (m_scanned >= m_text.size()) {
    return false;
  }
  if (m_i > 0) {
    std::copy(m_idx.begin() + static_cast<std::ptrdiff_t>(m_i),
              m_idx.begin() + static_cast<std::ptrdiff_t>(m_n), m_idx.begin());
    m_n -= m_i;
    m_i = 0;
  }
  const std::size_t end = std::min(m_text.size(), m_scanned + k_window);
  const std::size_t need = m_n + (end - m_scanned) + 64;
  if (m_idx.size() < need) {
    m_idx.resize(need);
  }
  const auto* bytes = reinterpret_cast<const unsigned char*>(m_text.data());
  const std::size_t entries_before = m_n;
  const std::size_t full_end = m_scanned + (end - m_scanned) / 64 * 64;
  IndexState st{m_in_string, m_escape_next};
  std::size_t* out = index_whole_blocks(bytes, m_scanned, full_end, st, m_idx.data() + m_n);
  if (full_end < end) {
    out = index_tail(bytes, full_end, end, st, out);
  }
  m_in_string = st.in_string;
  m_escape_next = st.escape_next;
  m_n = static_cast<std::size_t>(out - m_idx.data());
  if (m_n == entries_before) {
    check_empty_window(m_scanned, end);
  }
  m_scanned = end;
  if (m_release) {
    const std::size_t keep = std::min(m_after, m_pin);
    if (keep > m_released + 2 * k_release_step) {
      m_released = keep - k_release_step; // keep a margin for views handed out just before
    }
    m_release(m_released, m_scanned);
  }
  return true;
}

bool JsonReader::refill_background() {
  std::vector<std::size_t> buf;
  std::size_t count = 0;
  if (!m_background->next(buf, count)) {
    return false;
  }
  // Windows arrive in order, each k_window long but the last.
  const std::size_t from = m_scanned;
  m_scanned = std::min(m_text.size(), m_scanned + k_window);
  if (count == 0) {
    check_empty_window(from, m_scanned);
  }
  const std::size_t leftover = m_n - m_i;
  std::size_t first = BackgroundIndexer::k_front;
  if (leftover <= first) {
    first -= leftover;
    std::copy(m_idx.begin() + static_cast<std::ptrdiff_t>(m_i),
              m_idx.begin() + static_cast<std::ptrdiff_t>(m_n),
              buf.begin() + static_cast<std::ptrdiff_t>(first));
    m_background->give_back(std::move(m_idx));
    m_idx = std::move(buf);
    m_i = first;
    m_n = BackgroundIndexer::k_front + count;
  } else { // more unconsumed entries than the buffer's front room: append instead
    m_idx.erase(m_idx.begin(), m_idx.begin() + static_cast<std::ptrdiff_t>(m_i));
    m_idx.resize(leftover);
    m_idx.insert(m_idx.end(), buf.begin() + BackgroundIndexer::k_front,
                 buf.begin() + static_cast<std::ptrdiff_t>(BackgroundIndexer::k_front + count));
    m_background->give_back(std::move(buf));
    m_i = 0;
    m_n = m_idx.size();
  }
  m_background->set_done(std::min(m_after, m_pin));
  return true;
}

void JsonReader::check_empty_window(std::size_t from, std::size_t to) const {
  const std::string_view window = m_text.substr(from, to - from);
  if (const void* nul = std::memchr(window.data(), '\0', window.size()); nul != nullptr) {
    fail_at("a NUL byte: this is binary data, not JSON text",
            from + static_cast<std::size_t>(static_cast<const char*>(nul) - window.data()));
  }
  if (window.size() == k_window && std::all_of(window.begin(), window.end(), is_ws)) {
    fail_at(cat({"more than ", std::to_string(k_window / 1024),
                 " KiB of nothing but whitespace: not an admin API response"}),
            from);
  }
}

bool JsonReader::has_entry_slow(std::size_t k) {
  while (m_i + k >= m_n) {
    if (!refill()) {
      return false;
    }
  }
  return true;
}

std::size_t JsonReader::entry_slow(std::size_t k) {
  if (!has_entry_slow(k)) {
    fail_at("unexpected end of document", m_text.size());
  }
  return m_idx[m_i + k];
}

std::size_t JsonReader::skip_ws(std::size_t pos) const {
  while (pos < m_text.size() && is_ws(m_text[pos])) {
    ++pos;
  }
  return pos;
}

std::string_view JsonReader::string_at(std::size_t open, std::size_t close) {
  if (m_text[close] != '"') {
    fail_at("unterminated string", open);
  }
  const std::string_view raw = m_text.substr(open + 1, close - open - 1);
  if (raw.find('\\') == std::string_view::npos) {
    return raw;
  }
  m_scratch.clear();
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c != '\\') {
      m_scratch += c;
      continue;
    }
    if (++i >= raw.size()) {
      fail_at("bad escape in string", open);
    }
    switch (raw[i]) {
    case '"':
      m_scratch += '"';
      break;
    case '\\':
      m_scratch += '\\';
      break;
    case '/':
      m_scratch += '/';
      break;
    case 'b':
      m_scratch += '\b';
      break;
    case 'f':
      m_scratch += '\f';
      break;
    case 'n':
      m_scratch += '\n';
      break;
    case 'r':
      m_scratch += '\r';
      break;
    case 't':
      m_scratch += '\t';
      break;
    case 'u': {
      std::uint32_t cp = 0;
      if (!read_hex4(raw, i + 1, cp)) {
        fail_at("bad \\u escape in string", open + 1 + i);
      }
      i += 4;
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        std::uint32_t low = 0;
        if (i + 2 < raw.size() && raw[i + 1] == '\\' && raw[i + 2] == 'u' &&
            read_hex4(raw, i + 3, low) && low >= 0xDC00 && low <= 0xDFFF) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          i += 6;
        } else {
          cp = 0xFFFD;
        }
      } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        cp = 0xFFFD;
      }
      append_utf8(m_scratch, cp);
      break;
    }
    default:
      fail_at("bad escape in string", open + 1 + i);
    }
  }
  return m_scratch;
}

JsonReader::Kind JsonReader::peek() {
  if (has_entry(0)) {
    switch (m_text[m_idx[m_i]]) {
    case '{':
      return Kind::k_object;
    case '[':
      return Kind::k_array;
    case '"':
      return Kind::k_string;
    default:
      break; // a scalar comes before the next delimiter
    }
  }
  const std::size_t p = skip_ws(m_after);
  if (p >= m_text.size()) {
    fail_at("unexpected end of document", p);
  }
  switch (m_text[p]) {
  case 't':
    return Kind::k_true;
  case 'f':
    return Kind::k_false;
  case 'n':
    return Kind::k_null;
  default:
    if (m_text[p] == '-' || (m_text[p] >= '0' && m_text[p] <= '9')) {
      return Kind::k_number;
    }
  }
  fail_at(cat({"unexpected character ", shown_quoted(m_text.substr(p, 1))}), p);
}

std::size_t JsonReader::value_start() {
  if (has_entry(0)) {
    const char c = m_text[m_idx[m_i]];
    if (c == '{' || c == '[' || c == '"') {
      return m_idx[m_i];
    }
  }
  return skip_ws(m_after);
}

void JsonReader::begin_object() {
  const std::size_t e = entry(0);
  if (m_text[e] != '{') {
    fail_at("expected an object", value_start());
  }
  ++m_i;
  m_after = e + 1;
  m_stack.push_back('O');
}

bool JsonReader::next_member(std::string_view& key) {
  if (m_stack.empty() || (m_stack.back() != 'O' && m_stack.back() != 'o')) {
    fail("next_member() outside an object");
  }
  std::size_t e = entry(0);
  char c = m_text[e];
  if (c == '}') {
    m_stack.pop_back();
    ++m_i;
    m_after = e + 1;
    return false;
  }
  if (m_stack.back() == 'o') {
    if (c != ',') {
      fail_at("expected ',' or '}'", e);
    }
    ++m_i;
    e = entry(0);
    c = m_text[e];
  } else {
    m_stack.back() = 'o';
  }
  if (c != '"') {
    fail_at("expected a member name", e);
  }
  const std::size_t close = entry(1);
  const std::size_t colon = entry(2);
  if (m_text[colon] != ':') {
    fail_at("expected ':'", colon);
  }
  key = string_at(e, close);
  m_i += 3;
  m_after = colon + 1;
  return true;
}

void JsonReader::begin_array() {
  const std::size_t e = entry(0);
  if (m_text[e] != '[') {
    fail_at("expected an array", value_start());
  }
  ++m_i;
  m_after = e + 1;
  m_stack.push_back('A');
}

bool JsonReader::next_element() {
  if (m_stack.empty() || (m_stack.back() != 'A' && m_stack.back() != 'a')) {
    fail("next_element() outside an array");
  }
  const std::size_t e = entry(0);
  const char c = m_text[e];
  if (m_stack.back() == 'A') {
    m_stack.back() = 'a';
    if (c == ']' && skip_ws(m_after) == e) { // "[]"
      m_stack.pop_back();
      ++m_i;
      m_after = e + 1;
      return false;
    }
    return true;
  }
  if (c == ']') {
    m_stack.pop_back();
    ++m_i;
    m_after = e + 1;
    return false;
  }
  if (c != ',') {
    fail_at("expected ',' or ']'", e);
  }
  ++m_i;
  m_after = e + 1;
  return true;
}

std::string_view JsonReader::read_string() {
  const std::size_t open = entry(0);
  if (m_text[open] != '"') {
    fail_at("expected a string", value_start());
  }
  const std::size_t close = entry(1);
  m_i += 2;
  m_after = close + 1;
  return string_at(open, close);
}

std::string_view JsonReader::scalar_text() {
  const std::size_t start = skip_ws(m_after);
  std::size_t end = has_entry(0) ? m_idx[m_i] : m_text.size();
  while (end > start && is_ws(m_text[end - 1])) {
    --end;
  }
  if (end <= start) {
    fail_at("expected a value", start);
  }
  m_after = end;
  return m_text.substr(start, end - start);
}

namespace {

// The integer `t` spells in full (the text of a number, or of a string: protobuf's JSON writes
// 64-bit integers as strings); fails at `at` naming `what` was expected.
template <class T> T whole_integer(std::string_view t, std::size_t at, std::string_view what) {
  T v = 0;
  const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || ptr != t.data() + t.size()) {
    JsonReader::fail_at(cat({"expected ", what, ", got ", shown_quoted(t, 40)}), at);
  }
  return v;
}

} // namespace

std::uint64_t JsonReader::read_uint() {
  const std::size_t at = value_start();
  return whole_integer<std::uint64_t>(peek() == Kind::k_string ? read_string() : scalar_text(), at,
                                      "an unsigned integer");
}

std::int64_t JsonReader::read_int() {
  const std::size_t at = value_start();
  return whole_integer<std::int64_t>(peek() == Kind::k_string ? read_string() : scalar_text(), at,
                                     "an integer");
}

bool JsonReader::read_bool() {
  const std::size_t at = value_start();
  const std::string_view t = scalar_text();
  if (t == "true") {
    return true;
  }
  if (t != "false") {
    fail_at("expected true or false", at);
  }
  return false;
}

std::string JsonReader::read_scalar_text() {
  switch (peek()) {
  case Kind::k_string:
    return take_string();
  case Kind::k_object:
  case Kind::k_array:
    fail_at("expected a scalar value", value_start());
  default: {
    const std::size_t at = skip_ws(m_after);
    const std::string_view t = scalar_text();
    if (t != "true" && t != "false" && t != "null" && !looks_like_number(t)) {
      fail_at(cat({"unexpected value ", shown_quoted(t, 40)}), at);
    }
    return std::string(t);
  }
  }
}

void JsonReader::skip_container() {
  m_skip.clear();
  for (;;) {
    const std::size_t* idx = m_idx.data();
    for (std::size_t i = m_i; i < m_n; ++i) {
      const std::size_t e = idx[i];
      const char c = m_text[e];
      if (c == '{' || c == '[') {
        m_skip.push_back(c);
      } else if (c == '}' || c == ']') {
        if (m_skip.empty() || m_skip.back() != (c == '}' ? '{' : '[')) {
          m_i = i;
          fail_at("mismatched bracket", e);
        }
        m_skip.pop_back();
        if (m_skip.empty()) {
          m_i = i + 1;
          m_after = e + 1;
          return;
        }
      }
    }
    m_i = m_n;
    if (!refill()) {
      fail_at("unterminated object or array", m_text.size());
    }
  }
}

void JsonReader::skip_value() {
  if (has_entry(0)) {
    const char c = m_text[m_idx[m_i]];
    if (c == '{' || c == '[') {
      skip_container();
      return;
    }
    if (c == '"') {
      const std::size_t close = entry(1);
      m_i += 2;
      m_after = close + 1;
      return;
    }
  }
  const std::size_t at = skip_ws(m_after);
  const std::string_view t = scalar_text();
  if (t != "true" && t != "false" && t != "null" && !looks_like_number(t)) {
    fail_at(cat({"unexpected value ", shown_quoted(t, 40)}), at);
  }
}

std::string JsonReader::capture_value() {
  const std::size_t start = value_start();
  pin(start);
  skip_value();
  unpin();
  return std::string(slice(start, m_after));
}

void JsonReader::expect_end() {
  if (!m_stack.empty()) {
    fail("document ends inside an object or array");
  }
  if (has_entry(0)) {
    fail_at("unexpected data after the document", m_idx[m_i]);
  }
  const std::size_t p = skip_ws(m_after);
  if (p != m_text.size()) {
    fail_at("unexpected data after the document", p);
  }
}

void check_json_start(std::string_view text, bool complete) {
  const std::string_view head = text.substr(0, k_json_start_window);
  const auto nul_at = [&] {
    const void* nul = std::memchr(head.data(), '\0', head.size());
    return nul == nullptr ? std::string_view::npos
                          : static_cast<std::size_t>(static_cast<const char*>(nul) - head.data());
  };
  const std::size_t first =
      static_cast<std::size_t>(std::find_if_not(head.begin(), head.end(), is_ws) - head.begin());
  if (first == head.size()) {
    if (head.size() == k_json_start_window) {
      JsonReader::fail_at(cat({"more than ", std::to_string(k_json_start_window / 1024),
                               " KiB of whitespace and no JSON: not an admin API response"}),
                          0);
    }
    if (complete) {
      JsonReader::fail_at(
          text.empty() ? "the document is empty" : "the document holds nothing but whitespace", 0);
    }
    return;
  }
  if (head[first] == '\0') {
    JsonReader::fail_at("a NUL byte: this is binary data, not JSON text", first);
  }
  if (head[first] != '{' && head[first] != '[') {
    // What it starts with, escaped (binary data is mostly escapes) and never cut in the middle.
    constexpr std::size_t k_found = 12;
    JsonReader::fail_at(cat({"not JSON: expected '{' or '[' first, found ",
                             shown_quoted(text.substr(first, k_found), 4 * k_found),
                             text.size() - first > k_found ? "…" : ""}),
                        first);
  }
  if (const std::size_t nul = nul_at(); nul != std::string_view::npos) {
    JsonReader::fail_at("a NUL byte: this is binary data, not JSON text", nul);
  }
}

} // namespace meshctl::envoy
