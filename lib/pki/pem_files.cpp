// The PKI directory's files. The root key must never be readable by others, even for an instant,
// and a crash must never leave a truncated PEM behind: each file is written to a temp file created
// 0600 by mkstemp (umask does not apply to fchmod), given its final mode, synced, then renamed into
// place.

#include "pki/pem_files.hpp"

#include "core/log.hpp"
#include "core/redact.hpp"
#include "core/try.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

namespace meshctl::pki::detail {

namespace fs = std::filesystem;

namespace {

constexpr mode_t k_private_dir_mode = 0700;

std::string errno_text() {
  return std::strerror(errno);
}

void warn_if_exposed(const fs::path& key_path) {
  struct stat st {};
  if (::stat(key_path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    log::warn("{} can be read by other users (mode {:03o}); run: chmod 600 {}", key_path.string(),
              st.st_mode & 0777, key_path.string());
  }
}

class FdGuard {
public:
  explicit FdGuard(int fd) : m_fd(fd) {}
  ~FdGuard() {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
  }
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  [[nodiscard]] int get() const { return m_fd; }
  int release() { return std::exchange(m_fd, -1); }

private:
  int m_fd;
};

} // namespace

bool path_exists(const fs::path& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

Result<std::string> read_text(const fs::path& p) {
  std::error_code ec;
  if (!fs::exists(p, ec)) {
    return usage_error(fmt::format("{} does not exist", p.string()));
  }
  if (fs::is_directory(p, ec)) {
    return usage_error(fmt::format("{} is a directory, not a PEM file", p.string()));
  }
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    return usage_error(fmt::format("cannot read {}: {}", p.string(), errno_text()));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<PemFiles> read_pem_files(const fs::path& cert_path, const fs::path& key_path,
                                const std::string& ctx) {
  auto cert_text = read_text(cert_path);
  auto key_text = cert_text ? read_text(key_path) : Result<std::string>();
  if (!cert_text || !key_text) {
    return tl::make_unexpected(
        (!cert_text ? cert_text.error() : key_text.error()).with_context(ctx));
  }
  register_secret(*key_text);
  return PemFiles{std::move(*cert_text), std::move(*key_text)};
}

Result<std::optional<PemFiles>> read_ca_files(const fs::path& dir, std::string_view cert_file,
                                              std::string_view key_file,
                                              const std::string& hint_missing,
                                              const std::string& ctx) {
  const fs::path cert_path = dir / cert_file;
  const fs::path key_path = dir / key_file;
  bool has_cert = path_exists(cert_path);
  bool has_key = path_exists(key_path);
  // Another meshctl may be writing the pair right now (the key first, then the certificate):
  // give it a moment before calling a half pair broken.
  for (int i = 0; i < 20 && has_key && !has_cert; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    has_cert = path_exists(cert_path);
  }
  if (!has_cert && !has_key) {
    return std::optional<PemFiles>();
  }
  if (has_cert != has_key) {
    return tl::make_unexpected(Error(ExitCode::k_usage,
                                     fmt::format("{} is missing", has_cert ? key_file : cert_file),
                                     hint_missing)
                                   .with_context(ctx));
  }
  TRY_ASSIGN(auto files, read_pem_files(cert_path, key_path, ctx));
  warn_if_exposed(key_path);
  return std::optional<PemFiles>(std::move(files));
}

// chmod after mkdir: umask may strip bits.
Result<void> ensure_private_dir(const fs::path& dir) {
  std::vector<fs::path> missing;
  std::error_code ec;
  for (fs::path p = dir; !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
    missing.push_back(p);
    if (p == p.parent_path()) {
      break;
    }
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), k_private_dir_mode) != 0 && errno != EEXIST) {
      return fail(fmt::format("cannot create directory {}: {}", it->string(), errno_text()));
    }
    if (::chmod(it->c_str(), k_private_dir_mode) != 0) {
      return fail(fmt::format("cannot set mode 0700 on {}: {}", it->string(), errno_text()));
    }
  }
  if (!fs::is_directory(dir, ec)) {
    return usage_error(fmt::format("{} exists but is not a directory", dir.string()));
  }
  return {};
}

Result<void> write_atomic(const fs::path& path, std::string_view content, mode_t mode,
                          bool replace) {
  const fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::string tmp = (parent / ("." + path.filename().string() + ".XXXXXX")).string();
  FdGuard fd(::mkstemp(tmp.data()));
  if (fd.get() < 0) {
    return fail(fmt::format("cannot create a file in {}: {}", parent.string(), errno_text()));
  }
  auto fail_and_unlink = [&](const std::string& what) {
    const std::string msg = fmt::format("{} {}: {}", what, path.string(), errno_text());
    ::unlink(tmp.c_str());
    return fail(msg);
  };
  if (::fchmod(fd.get(), mode) != 0) {
    return fail_and_unlink("cannot set the mode of");
  }
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return fail_and_unlink("cannot write");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0 || ::close(fd.release()) != 0) {
    return fail_and_unlink("cannot write");
  }
  int rc = 0;
  if (replace) {
    rc = std::rename(tmp.c_str(), path.c_str());
  } else {
    // RENAME_NOREPLACE closes the check-then-rename race.
    rc = ::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE);
    if (rc != 0 && (errno == EINVAL || errno == ENOSYS)) { // filesystem without NOREPLACE
      if (path_exists(path)) {
        errno = EEXIST;
      } else {
        rc = std::rename(tmp.c_str(), path.c_str());
      }
    }
  }
  if (rc != 0) {
    if (errno == EEXIST) {
      ::unlink(tmp.c_str());
      return usage_error(fmt::format("{} already exists; refusing to overwrite it", path.string()));
    }
    return fail_and_unlink("cannot rename a temporary file to");
  }
  // Make the rename itself durable.
  FdGuard dir_fd(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() >= 0) {
    ::fsync(dir_fd.get());
  }
  return {};
}

Result<void> write_if_changed(const fs::path& path, std::string_view content, mode_t mode) {
  if (path_exists(path)) {
    auto current = read_text(path);
    if (current && *current == content) {
      return {};
    }
  }
  return write_atomic(path, content, mode, true);
}

} // namespace meshctl::pki::detail
