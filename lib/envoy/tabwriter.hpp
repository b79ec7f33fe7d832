#pragma once
// Go's text/tabwriter, ported so meshctl's tables are byte-identical to istioctl's.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace meshctl::envoy {

/// Aligns tab-separated cells into columns exactly like Go's tabwriter.Writer with flags 0, which
/// is what istioctl uses: a cell ends at '\t' (or '\v'), a line at '\n' (or '\f'); the last cell of
/// a line belongs to no column and is never padded; a column's width is its widest cell plus
/// `padding` (at least `minwidth`), computed per block of consecutive lines that have that column.
class TabWriter {
public:
  TabWriter(int minwidth, int tabwidth, int padding, char padchar);

  /// Receives the aligned output in chunks.
  using Sink = std::function<void(std::string_view)>;

  /// Buffers text; nothing is aligned until flush().
  void write(std::string_view text);
  /// Same as write(text + "\t"), without scanning `text` twice (the fast path for tables).
  void cell(std::string_view text);
  /// Same as write(text + "\n").
  void end_line(std::string_view text);
  /// cell() and end_line() without copying `text`, which must stay valid until flush(): big tables
  /// then cost no second copy of their cells.
  void cell_ref(std::string_view text);
  void end_line_ref(std::string_view text);
  /// Pre-allocates for `bytes` of cell text in `cells` cells.
  void reserve(std::size_t bytes, std::size_t cells);
  /// Aligns everything written so far, hands it to `sink` in chunks and starts afresh.
  void flush(const Sink& sink);
  /// Convenience: flush into a string.
  std::string flush();

private:
  struct Cell {
    const char* ref = nullptr; // borrowed text (cell_ref), else the text is next in m_buf
    std::uint32_t size = 0;    // bytes
    std::uint32_t width = 0;   // runes
    bool htab = false;         // terminated by '\t' rather than '\v'
  };
  bool add_ref(std::string_view text, bool htab);

  void terminate_cell(bool htab);
  // The fast path of cell() and end_line(): printable ASCII text needs no splitting and no rune
  // counting. False (nothing done) for other text.
  bool add_plain_cell(std::string_view text, bool htab);
  void add_line();
  [[nodiscard]] std::size_t line_cells(std::size_t line) const;
  [[nodiscard]] const Cell& cell(std::size_t line, std::size_t column) const {
    return m_cells[m_line_start[line] + column];
  }
  void append_plain(std::string_view text); // text without tabs, newlines or \v \f
  std::size_t format(std::size_t pos0, std::size_t line0, std::size_t line1);
  std::size_t write_lines(std::size_t pos0, std::size_t line0, std::size_t line1);
  void write_padding(std::uint32_t textw, int cellw);
  void emit(std::string_view text);
  void emit_fill(std::size_t n, char c);

  int m_minwidth;
  int m_tabwidth;
  int m_padding;
  char m_padchar;
  std::string m_buf;                     // cell text without the separators
  Cell m_cell;                           // the cell being collected
  std::vector<Cell> m_cells;             // all terminated cells, line after line
  std::vector<std::size_t> m_line_start; // index in m_cells of each line's first cell
  std::vector<int> m_widths;             // widths of the columns left of the one being formatted
  std::string m_out;                     // output chunk being filled during flush
  const Sink* m_sink = nullptr;
};

/// Number of runes in UTF-8 text as Go's utf8.RuneCount counts them (an invalid byte counts 1).
std::size_t rune_count(std::string_view s);

} // namespace meshctl::envoy
