#pragma once
// JsonReader: a pull parser for the JSON Envoy's admin API returns, built for dumps of hundreds of
// megabytes. It never builds a tree: callers walk objects and arrays, read the fields they need and
// skip the rest, and the reader keeps only a small window of structural positions in memory. How
// it stays fast and small is explained at the top of json_reader.cpp.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace meshctl::envoy {

/// A malformed or unexpected document. Used inside lib/envoy only; the public readers turn it into
/// an Error that names the byte offset, line and JSON path.
class JsonError : public std::runtime_error {
public:
  JsonError(const std::string& message, std::uint64_t offset)
      : std::runtime_error(message), m_offset(offset) {}
  /// Byte offset in the document where the problem was seen.
  [[nodiscard]] std::uint64_t offset() const { return m_offset; }
  /// JSON path of the value being read, outermost first, e.g. "configs[2].dynamic_listeners[0]".
  [[nodiscard]] const std::string& path() const { return m_path; }
  /// Adds an outer path segment ("configs[2]" or "listener") as the error unwinds.
  void add_outer(std::string_view segment);
  /// add_outer() of a member's name by a reader that named it itself (in_member): the loop over
  /// the object's members, unwinding next, then leaves it as it is (take_member_named()).
  void add_member(std::string_view name) {
    add_outer(name);
    m_member_named = true;
  }
  /// Whether the innermost member on the path was named by add_member(); clears that.
  bool take_member_named() { return std::exchange(m_member_named, false); }

private:
  std::uint64_t m_offset;
  std::string m_path;
  bool m_member_named = false;
};

class BackgroundIndexer;

/// Streams over one JSON document held in memory (a string or a memory-mapped file).
///
/// Contract for callers: read or skip every value exactly once, in document order. Views returned
/// by next_member() and read_string() stay valid until the next call on the reader.
class JsonReader {
public:
  enum class Kind { k_object, k_array, k_string, k_number, k_true, k_false, k_null };

  /// Called as the reader moves on: bytes before `done` will not be looked at again (a mapped
  /// source can give those pages back); bytes up to `next` are about to be read.
  using Progress = std::function<void(std::size_t done, std::size_t next)>;

  /// `text` must outlive the reader. `progress`, if set, is told how far the reader has got.
  explicit JsonReader(std::string_view text, Progress progress = {});
  ~JsonReader();
  JsonReader(const JsonReader&) = delete;
  JsonReader& operator=(const JsonReader&) = delete;

  /// The kind of the next value (the caller is positioned before a value).
  Kind peek();
  void begin_object();
  /// Advances to the next member of the current object; false (and the object is closed) at '}'.
  bool next_member(std::string_view& key);
  void begin_array();
  /// Advances to the next element of the current array; false (and the array is closed) at ']'.
  bool next_element();

  /// Reads a string value, unescaped.
  std::string_view read_string();
  std::string take_string() { return std::string(read_string()); }
  /// Reads a number as an unsigned integer; a quoted integer ("15443", as protobuf writes 64-bit
  /// values) is accepted too.
  std::uint64_t read_uint();
  std::int64_t read_int();
  bool read_bool();
  /// Reads any scalar and returns its text: strings unescaped, numbers and literals as written.
  std::string read_scalar_text();
  /// Skips the next value, whatever it is. This is the fast path for most of a big dump.
  void skip_value();
  /// Returns the raw JSON text of the next value and moves past it.
  std::string capture_value();

  /// Position of the first byte of the next value (the caller is positioned before a value).
  std::size_t value_start();
  /// Position just after the last value or token read.
  [[nodiscard]] std::size_t position() const { return m_after; }
  /// Whether `view` points into the document (a key without escapes does; an unescaped one
  /// lives in a scratch buffer the next string overwrites).
  [[nodiscard]] bool in_document(std::string_view view) const {
    return view.data() >= m_text.data() &&
           view.data() + view.size() <= m_text.data() + m_text.size();
  }
  /// The document bytes [from, to).
  [[nodiscard]] std::string_view slice(std::size_t from, std::size_t to) const {
    return m_text.substr(from, to - from);
  }
  /// Keeps bytes from `offset` on resident (no release below it) until unpin().
  void pin(std::size_t offset) { m_pin = offset; }
  void unpin() { m_pin = k_no_pin; }

  /// Checks that nothing but whitespace follows the top-level value.
  void expect_end();
  /// Throws a JsonError at the current position.
  [[noreturn]] void fail(const std::string& message) const;
  /// Throws a JsonError at `offset`.
  [[noreturn]] static void fail_at(const std::string& message, std::size_t offset);

private:
  static constexpr std::size_t k_no_pin = static_cast<std::size_t>(-1);
  static constexpr std::size_t k_window = std::size_t{512} * 1024; // bytes indexed per refill
  /// Documents from this size on are indexed by a second thread, one window ahead.
  static constexpr std::size_t k_background_min = std::size_t{8} * 1024 * 1024;

  // Structural index: absolute positions of quotes and of { } [ ] : , outside strings.
  bool refill();
  bool refill_background();
  /// Position of the k-th unconsumed entry (refills as needed; throws at the end).
  // Always inlined: the readers' hot loops call these for every token, and GCC's unit-growth
  // heuristics would otherwise leave them out of line in some callers.
  [[gnu::always_inline]] std::size_t entry(std::size_t k) {
    return m_i + k < m_n ? m_idx[m_i + k] : entry_slow(k);
  }
  [[gnu::always_inline]] bool has_entry(std::size_t k) {
    return m_i + k < m_n || has_entry_slow(k);
  }
  std::size_t entry_slow(std::size_t k);
  bool has_entry_slow(std::size_t k);
  std::string_view string_at(std::size_t open, std::size_t close);
  std::string_view scalar_text(); // next scalar value's raw text; consumes it
  std::size_t skip_ws(std::size_t pos) const;
  /// A window [from, to) in which stage one found nothing: refused if it holds a NUL byte or, a
  /// whole window long, only whitespace (what a file of zeros or spaces looks like).
  void check_empty_window(std::size_t from, std::size_t to) const;
  void skip_container();

  std::string_view m_text;
  Progress m_release;
  std::vector<std::size_t> m_idx;
  std::size_t m_n = 0;       // entries in m_idx
  std::size_t m_i = 0;       // next unconsumed entry
  std::size_t m_scanned = 0; // bytes indexed so far
  std::size_t m_after = 0;   // position after the last consumed token
  std::size_t m_pin = k_no_pin;
  std::size_t m_released = 0;
  std::uint64_t m_in_string = 0; // all ones when the previous block ended inside a string
  bool m_escape_next = false;    // the previous block ended with an unescaped backslash
  std::string m_stack;           // open containers: 'o' or 'a'; upper case before the first item
  std::string m_scratch;         // unescaped strings
  std::string m_skip;            // bracket stack while skipping
  std::unique_ptr<BackgroundIndexer> m_background;
};

/// How much whitespace may come before a document's first '{' or '[' (a real one has a few bytes).
inline constexpr std::size_t k_json_start_window = std::size_t{64} * 1024;

/// Refuses at once what cannot be an admin API response, by looking at its first bytes only: a
/// first byte other than '{' or '[', more whitespace than k_json_start_window before it, a NUL
/// byte in the first k_json_start_window bytes, and (when `complete`: `text` is the whole
/// document, not the start of a stream still arriving) an empty or blank document. Throws
/// JsonError at the offending offset.
void check_json_start(std::string_view text, bool complete);

} // namespace meshctl::envoy
