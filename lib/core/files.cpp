#include "core/files.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>

namespace meshctl {

std::string safe_file_name(std::string_view text) {
  std::string out;
  for (char ch : text) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
    out += ok ? ch : '_';
  }
  return out.empty() ? "_" : out;
}

Result<void> write_file(const std::filesystem::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    return fail("cannot write " + path.string() + ": " + std::strerror(errno),
                "pick a directory you may write to");
  }
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out) {
    return fail("cannot write " + path.string() + ": " + std::strerror(errno));
  }
  return {};
}

} // namespace meshctl
