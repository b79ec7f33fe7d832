#include "core/shown.hpp"

#include <vector>

namespace meshctl {

std::size_t utf8_length_at(std::string_view text, std::size_t i) {
  const auto c = static_cast<unsigned char>(text[i]);
  if (c < 0x80) {
    return 1;
  }
  std::size_t len = 0;
  unsigned min = 0;
  unsigned cp = 0;
  if ((c & 0xe0U) == 0xc0) {
    len = 2;
    min = 0x80;
    cp = c & 0x1fU;
  } else if ((c & 0xf0U) == 0xe0) {
    len = 3;
    min = 0x800;
    cp = c & 0x0fU;
  } else if ((c & 0xf8U) == 0xf0) {
    len = 4;
    min = 0x10000;
    cp = c & 0x07U;
  } else {
    return 0;
  }
  if (i + len > text.size()) {
    return 0;
  }
  for (std::size_t k = 1; k < len; ++k) {
    const auto cc = static_cast<unsigned char>(text[i + k]);
    if ((cc & 0xc0U) != 0x80) {
      return 0;
    }
    cp = (cp << 6) | (cc & 0x3fU);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
    return 0;
  }
  return len;
}

namespace {

void append_hex_escape(std::string& out, const char* prefix, unsigned value, int digits) {
  static constexpr char k_hex[] = "0123456789abcdef";
  out += prefix;
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) {
    out += k_hex[(value >> static_cast<unsigned>(shift)) & 0xfU];
  }
}

// The shown form of `value` cut into units (a character or one escape), so that shortening never
// splits an escape or a multi-byte character.
std::vector<std::string> shown_units(std::string_view value) {
  std::vector<std::string> units;
  for (std::size_t i = 0; i < value.size();) {
    const auto c = static_cast<unsigned char>(value[i]);
    const std::size_t len = utf8_length_at(value, i);
    std::string unit;
    if (len == 0 || c < 0x20 || c == 0x7f) {
      append_hex_escape(unit, "\\x", c, 2); // a control character, or a byte that is not UTF-8
      i += 1;
    } else if (c == 0xc2 && static_cast<unsigned char>(value[i + 1]) < 0xa0) {
      // C1 controls (U+0080-U+009F): some terminals act on them (U+009B is CSI).
      append_hex_escape(unit, "\\u", static_cast<unsigned char>(value[i + 1]), 4);
      i += 2;
    } else {
      unit.assign(value.substr(i, len));
      i += len;
    }
    units.push_back(std::move(unit));
  }
  return units;
}

} // namespace

std::string shown(std::string_view value, std::size_t max) {
  // The fast path: short, printable, valid text is shown as it is.
  if (value.size() <= max) {
    bool plain = true;
    for (const char ch : value) {
      const auto c = static_cast<unsigned char>(ch);
      if (c < 0x20 || c >= 0x7f) {
        plain = false;
        break;
      }
    }
    if (plain) {
      return std::string(value);
    }
  }
  const std::vector<std::string> units = shown_units(value);
  std::size_t total = 0;
  for (const auto& u : units) {
    total += u.size();
  }
  std::string out;
  if (total <= max) {
    out.reserve(total);
    for (const auto& u : units) {
      out += u;
    }
    return out;
  }
  // Head and tail, about half of `max` each: the start says what it is, the end often which one.
  static constexpr std::string_view k_ellipsis = "\u2026";
  const std::size_t budget = max > 2 ? max - 2 : 1;
  const std::size_t head_budget = (budget + 1) / 2;
  const std::size_t tail_budget = budget - head_budget;
  std::size_t head = 0;
  std::size_t used = 0;
  while (head < units.size() && used + units[head].size() <= head_budget) {
    used += units[head].size();
    ++head;
  }
  std::size_t tail = units.size();
  used = 0;
  while (tail > head && used + units[tail - 1].size() <= tail_budget) {
    used += units[tail - 1].size();
    --tail;
  }
  for (std::size_t k = 0; k < head; ++k) {
    out += units[k];
  }
  out += k_ellipsis;
  for (std::size_t k = tail; k < units.size(); ++k) {
    out += units[k];
  }
  return out;
}

std::string shown_quoted(std::string_view value, std::size_t max) {
  return "\"" + shown(value, max) + "\"";
}

std::size_t invalid_utf8_at(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t len = utf8_length_at(text, i);
    if (len == 0) {
      return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

std::string valid_utf8(std::string_view text) {
  std::size_t bad = invalid_utf8_at(text);
  if (bad == std::string_view::npos) {
    return std::string(text);
  }
  std::string out(text.substr(0, bad));
  for (std::size_t i = bad; i < text.size();) {
    const std::size_t len = utf8_length_at(text, i);
    if (len == 0) {
      out += "\uFFFD";
      ++i;
    } else {
      out.append(text.substr(i, len));
      i += len;
    }
  }
  return out;
}

} // namespace meshctl
