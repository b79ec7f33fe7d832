#include "core/error.hpp"

namespace meshctl {

std::string Error::what() const {
  std::string out;
  for (const auto& c : m_context) {
    out += c;
    out += ": ";
  }
  out += m_message;
  return out;
}

} // namespace meshctl
