#include "config/files.hpp"

#include "core/shown.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace meshctl::config::detail {

namespace fs = std::filesystem;

std::optional<std::string> home_dir() {
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') {
    return std::nullopt;
  }
  return std::string(home);
}

std::string absolute_dir_of(const std::string& origin) {
  std::error_code ec;
  const fs::path dir = fs::absolute(fs::path(origin).parent_path(), ec);
  if (ec) {
    return fs::path(origin).parent_path().string();
  }
  return dir.lexically_normal().string();
}

std::string resolve_path(const std::string& path, const std::string& base) {
  if (path.empty() || fs::path(path).is_absolute()) {
    return path;
  }
  return (fs::path(base) / path).lexically_normal().string();
}

std::string size_text(std::uintmax_t bytes) {
  constexpr std::uintmax_t k_kib = 1024;
  if (bytes < k_kib) {
    return std::to_string(bytes) + " bytes";
  }
  if (bytes < k_kib * k_kib) {
    return std::to_string(bytes / k_kib) + " KiB";
  }
  const double mib = static_cast<double>(bytes) / static_cast<double>(k_kib * k_kib);
  return mib < 1024 ? fmt::format("{:.1f} MiB", mib) : fmt::format("{:.1f} GiB", mib / 1024);
}

Result<std::string> read_file(const std::string& path, const std::string& what,
                              std::size_t max_bytes) {
  const std::string named = (what.empty() ? std::string() : what + " ") + shown(path);
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    return usage_error(named + " is a directory, not a file", "name the file itself");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return usage_error("cannot read " + named + ": " + std::strerror(errno),
                       "check the file's permissions");
  }
  auto too_big = [&](const std::string& size) {
    return usage_error(fmt::format("{} is too big: {}, and meshctl reads at most {} of such a file",
                                   named, size, size_text(max_bytes)),
                       "check that it is the right file");
  };
  // A regular file says its size up front: refuse it before reading a byte.
  if (const auto size = fs::file_size(path, ec); !ec && size > max_bytes) {
    return too_big(size_text(size));
  }
  // Anything else (a pipe, /dev/stdin) is read up to one byte past the bound.
  std::string text;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<std::size_t>(in.gcount()));
    if (text.size() > max_bytes) {
      return too_big("it goes on past that");
    }
  }
  return text;
}

} // namespace meshctl::config::detail
