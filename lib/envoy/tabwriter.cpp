// A port of Go's text/tabwriter (flags 0, no escapes, no HTML filtering), the formatter behind
// every istioctl table. The algorithm, kept as in Go so the output matches byte for byte:
//
// Text is split into cells at '\t'/'\v' and into lines at '\n'/'\f'. The last cell of each line
// is the text after its last tab: it belongs to no column and is written as is. format() works
// column by column, left to right and recursively: a "block" of column c is a maximal run of
// consecutive lines that have a cell in column c (i.e. more than c+1 cells). The block's width is
// its widest cell plus the padding (never below minwidth); with that width pushed, format()
// recurses on the same lines for column c+1. Lines outside any block of the current column are
// written out with the widths known so far. Hence a line with fewer cells splits the blocks of the
// columns it lacks, exactly like Go: two tables separated by a blank line align independently.

#include "envoy/tabwriter.hpp"

namespace meshctl::envoy {

std::size_t rune_count(std::string_view s) {
  std::size_t n = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 1;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
    }
    bool valid = i + len <= s.size();
    for (std::size_t k = 1; valid && k < len; ++k) {
      valid = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    }
    i += valid ? len : 1;
    ++n;
  }
  return n;
}

TabWriter::TabWriter(int minwidth, int tabwidth, int padding, char padchar)
    : m_minwidth(minwidth), m_tabwidth(tabwidth), m_padding(padding), m_padchar(padchar) {
  m_line_start.push_back(0);
}

void TabWriter::terminate_cell(bool htab) {
  m_cell.htab = htab;
  m_cells.push_back(m_cell);
  m_cell = Cell{};
}

void TabWriter::add_line() {
  m_line_start.push_back(m_cells.size());
}

std::size_t TabWriter::line_cells(std::size_t line) const {
  const std::size_t end = line + 1 < m_line_start.size() ? m_line_start[line + 1] : m_cells.size();
  return end - m_line_start[line];
}

namespace {

// One pass over a cell: is it all printable ASCII (width = size, no separators inside)?
bool plain_ascii(std::string_view text) {
  unsigned char lo = 0xFF;
  unsigned char hi = 0;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    lo = c < lo ? c : lo;
    hi = c > hi ? c : hi;
  }
  return lo >= 0x20 && hi < 0x80;
}

} // namespace

void TabWriter::append_plain(std::string_view text) {
  m_buf.append(text);
  m_cell.size += static_cast<std::uint32_t>(text.size());
  m_cell.width += static_cast<std::uint32_t>(plain_ascii(text) ? text.size() : rune_count(text));
}

bool TabWriter::add_plain_cell(std::string_view text, bool htab) {
  if (!plain_ascii(text)) {
    return false;
  }
  m_buf.append(text);
  m_cell.size += static_cast<std::uint32_t>(text.size());
  m_cell.width += static_cast<std::uint32_t>(text.size());
  terminate_cell(htab);
  return true;
}

void TabWriter::cell(std::string_view text) {
  if (!add_plain_cell(text, true)) {
    write(text);
    write("\t");
  }
}

void TabWriter::end_line(std::string_view text) {
  if (add_plain_cell(text, false)) {
    add_line();
    return;
  }
  write(text);
  write("\n");
}

bool TabWriter::add_ref(std::string_view text, bool htab) {
  if (m_cell.size > 0 || !plain_ascii(text)) {
    return false; // continues a cell, or needs splitting or rune counting: copy it
  }
  m_cell.ref = text.data();
  m_cell.size = static_cast<std::uint32_t>(text.size());
  m_cell.width = m_cell.size;
  terminate_cell(htab);
  return true;
}

void TabWriter::cell_ref(std::string_view text) {
  if (!add_ref(text, true)) {
    cell(text);
  }
}

void TabWriter::end_line_ref(std::string_view text) {
  if (add_ref(text, false)) {
    add_line();
  } else {
    end_line(text);
  }
}

void TabWriter::reserve(std::size_t bytes, std::size_t cells) {
  m_buf.reserve(m_buf.size() + bytes);
  m_cells.reserve(m_cells.size() + cells);
}

void TabWriter::write(std::string_view text) {
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (ch != '\t' && ch != '\v' && ch != '\n' && ch != '\f') {
      continue;
    }
    append_plain(text.substr(start, i - start));
    start = i + 1;
    terminate_cell(ch == '\t');
    if (ch == '\n' || ch == '\f') {
      add_line();
    }
  }
  append_plain(text.substr(start));
}

void TabWriter::emit(std::string_view text) {
  m_out.append(text);
  if (m_out.size() >= (1U << 18)) {
    (*m_sink)(m_out);
    m_out.clear();
  }
}

void TabWriter::emit_fill(std::size_t n, char c) {
  m_out.append(n, c);
  if (m_out.size() >= (1U << 18)) {
    (*m_sink)(m_out);
    m_out.clear();
  }
}

void TabWriter::write_padding(std::uint32_t textw, int cellw) {
  if (m_padchar == '\t') {
    if (m_tabwidth == 0) {
      return; // tabs have no width: no padding possible
    }
    cellw = (cellw + m_tabwidth - 1) / m_tabwidth * m_tabwidth;
    const int n = cellw - static_cast<int>(textw);
    emit_fill(static_cast<std::size_t>((n + m_tabwidth - 1) / m_tabwidth), '\t');
    return;
  }
  const int n = cellw - static_cast<int>(textw);
  if (n > 0) {
    emit_fill(static_cast<std::size_t>(n), m_padchar);
  }
}

std::size_t TabWriter::write_lines(std::size_t pos0, std::size_t line0, std::size_t line1) {
  std::size_t pos = pos0;
  for (std::size_t i = line0; i < line1; ++i) {
    const std::size_t n = line_cells(i);
    for (std::size_t j = 0; j < n; ++j) {
      const Cell& c = cell(i, j);
      if (c.ref != nullptr) {
        emit(std::string_view(c.ref, c.size));
      } else if (c.size > 0) {
        emit(std::string_view(m_buf).substr(pos, c.size));
        pos += c.size;
      }
      if (j < m_widths.size()) {
        write_padding(c.width, m_widths[j]);
      }
    }
    if (i + 1 == m_line_start.size()) {
      // The last buffered line has no newline: write the unterminated cell, if any.
      emit(std::string_view(m_buf).substr(pos, m_cell.size));
      pos += m_cell.size;
    } else {
      emit("\n");
    }
  }
  return pos;
}

std::size_t TabWriter::format(std::size_t pos0, std::size_t line0, std::size_t line1) {
  std::size_t pos = pos0;
  const std::size_t column = m_widths.size();
  for (std::size_t line = line0; line < line1; ++line) {
    if (column + 1 >= line_cells(line)) {
      continue; // no cell in this column (the last cell of a line is not in a column)
    }
    pos = write_lines(pos, line0, line);
    line0 = line;
    int width = m_minwidth;
    for (; line < line1; ++line) {
      if (column + 1 >= line_cells(line)) {
        break;
      }
      const int w = static_cast<int>(cell(line, column).width) + m_padding;
      if (w > width) {
        width = w;
      }
    }
    m_widths.push_back(width);
    pos = format(pos, line0, line);
    m_widths.pop_back();
    line0 = line;
  }
  return write_lines(pos, line0, line1);
}

void TabWriter::flush(const Sink& sink) {
  if (m_cell.size > 0) {
    terminate_cell(false);
  }
  m_sink = &sink;
  m_out.clear();
  format(0, 0, m_line_start.size());
  if (!m_out.empty()) {
    sink(m_out);
  }
  m_out.clear();
  m_out.shrink_to_fit();
  m_sink = nullptr;
  m_buf.clear();
  m_cell = Cell{};
  m_cells.clear();
  m_line_start.assign(1, 0);
  m_widths.clear();
}

std::string TabWriter::flush() {
  std::string out;
  flush(Sink([&out](std::string_view chunk) { out.append(chunk); }));
  return out;
}

} // namespace meshctl::envoy
