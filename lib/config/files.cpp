#include "config/files.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

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

Result<std::string> read_file(const std::string& path, const std::string& what) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    return usage_error(path + " is a directory, not a file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return usage_error("cannot read " + (what.empty() ? std::string() : what + " ") + path + ": " +
                           std::strerror(errno),
                       "check the file's permissions");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace meshctl::config::detail
