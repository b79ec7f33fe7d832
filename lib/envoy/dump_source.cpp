#include "envoy/dump_source.hpp"

#include "core/shown.hpp"
#include "envoy/json_reader.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace meshctl::envoy {

namespace {

constexpr const char* k_dump_hint =
    "-f takes a file saved from the proxy's admin API, e.g. `kubectl exec POD -c istio-proxy -- "
    "pilot-agent request GET config_dump > dump.json`";

#ifdef MADV_POPULATE_READ
constexpr int k_madv_populate_read = MADV_POPULATE_READ;
#else
constexpr int k_madv_populate_read = 22; // Linux >= 5.14
#endif

Result<std::string> read_fd(int fd, const std::string& name) {
  std::string out;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) {
      return out;
    }
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return fail("cannot read " + shown(name) + ": " + std::strerror(errno));
    }
    const std::size_t before = out.size();
    out.append(buf, static_cast<std::size_t>(n));
    // A stream that cannot be JSON is refused as soon as that shows (`-f /dev/zero` would
    // otherwise never end): a NUL byte anywhere, or the wrong start.
    const void* nul = std::memchr(buf, '\0', static_cast<std::size_t>(n));
    if (nul != nullptr) {
      return fail(
          fmt::format("{}: byte {}: a NUL byte: this is binary data, not JSON text", shown(name),
                      before + static_cast<std::size_t>(static_cast<const char*>(nul) - buf)),
          k_dump_hint);
    }
    if (before < k_json_start_window) {
      try {
        check_json_start(out, false);
      } catch (const JsonError& e) {
        return fail(shown(name) + ": " + e.what(), k_dump_hint);
      }
    }
  }
}

} // namespace

DumpBytes DumpBytes::from_string(std::string text, std::string name) {
  DumpBytes b;
  b.m_name = std::move(name);
  b.m_owned = std::move(text);
  b.m_view = b.m_owned;
  return b;
}

Result<DumpBytes> DumpBytes::from_file(const std::string& path) {
  if (path == "-") {
    auto text = read_fd(STDIN_FILENO, "stdin");
    if (!text) {
      return tl::make_unexpected(text.error());
    }
    return from_string(std::move(*text), "stdin");
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return usage_error("cannot open " + shown(path) + ": " + std::strerror(errno), k_dump_hint);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return usage_error("cannot stat " + shown(path) + ": " + std::strerror(err), k_dump_hint);
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return usage_error(shown(path) + " is a directory, not a file", k_dump_hint);
  }
  if (!S_ISREG(st.st_mode) || st.st_size == 0) {
    // A pipe or process substitution (or an empty file): read what there is.
    auto text = read_fd(fd, path);
    ::close(fd);
    if (!text) {
      return tl::make_unexpected(text.error());
    }
    return from_string(std::move(*text), path);
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) {
    return fail("cannot map " + shown(path) + ": " + std::strerror(errno));
  }
  ::madvise(map, size, MADV_SEQUENTIAL);
  DumpBytes b;
  b.m_name = path;
  b.m_map = map;
  b.m_map_size = size;
  b.m_view = std::string_view(static_cast<const char*>(map), size);
  return b;
}

DumpBytes::DumpBytes(DumpBytes&& other) noexcept {
  *this = std::move(other);
}

DumpBytes& DumpBytes::operator=(DumpBytes&& other) noexcept {
  if (this != &other) {
    reset();
    m_name = std::move(other.m_name);
    const bool owned = other.m_map == nullptr;
    m_owned = std::move(other.m_owned);
    m_map = other.m_map;
    m_map_size = other.m_map_size;
    m_released = other.m_released;
    m_view = owned ? std::string_view(m_owned) : other.m_view;
    other.m_map = nullptr;
    other.m_map_size = 0;
    other.m_view = {};
  }
  return *this;
}

DumpBytes::~DumpBytes() {
  reset();
}

void DumpBytes::reset() noexcept {
  if (m_map != nullptr) {
    ::munmap(m_map, m_map_size);
    m_map = nullptr;
  }
  m_map_size = 0;
  m_view = {};
}

void DumpBytes::progress(std::size_t done, std::size_t next) const {
  if (m_map == nullptr) {
    return;
  }
  static const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  constexpr std::size_t k_ahead = std::size_t{4} * 1024 * 1024;
  auto* base = static_cast<char*>(m_map);
  const std::size_t drop_end = std::min(done, m_map_size) / page * page;
  if (drop_end > m_released) {
    ::madvise(base + m_released, drop_end - m_released, MADV_DONTNEED);
    m_released = drop_end;
  }
  // Mapping pages ahead in one call is cheaper than a fault per 16 pages. MADV_POPULATE_READ is
  // Linux >= 5.14; on older kernels the call fails and pages fault in as usual.
  if (next + k_ahead / 2 > m_populated && m_populated < m_map_size) {
    const std::size_t from = std::max(m_populated, drop_end);
    const std::size_t to = std::min(m_map_size, (next + k_ahead + page - 1) / page * page);
    if (to > from) {
      ::madvise(base + from, to - from, k_madv_populate_read);
    }
    m_populated = to;
  }
}

std::function<void(std::size_t, std::size_t)> DumpBytes::releaser() const {
  if (m_map == nullptr) {
    return {};
  }
  return [this](std::size_t done, std::size_t next) { progress(done, next); };
}

std::pair<std::size_t, std::size_t> DumpBytes::line_column(std::size_t offset) const {
  offset = std::min(offset, m_view.size());
  const std::string_view before = m_view.substr(0, offset);
  const std::size_t line = static_cast<std::size_t>(std::count(before.begin(), before.end(), '\n'));
  const std::size_t nl = before.rfind('\n');
  const std::size_t column = nl == std::string_view::npos ? offset + 1 : offset - nl;
  return {line + 1, column};
}

Result<DumpBytes> FileDumpSource::get(const std::string& /*admin_path*/) {
  return DumpBytes::from_file(m_path);
}

std::string FileDumpSource::describe() const {
  return m_path == "-" ? "stdin" : "file " + m_path;
}

} // namespace meshctl::envoy
