#pragma once
// Where Envoy admin output comes from: a file given with -f (or stdin), or, later, a live pod
// through `pilot-agent request GET <path>` (FACTS §6). Readers only see DumpBytes.

#include "core/error.hpp"

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace meshctl::envoy {

/// The bytes of one admin response. A regular file is memory-mapped rather than copied, and the
/// pages the reader has finished with are given back to the kernel, so reading a 200 MB dump keeps
/// only a few MB resident. Move-only.
class DumpBytes {
public:
  /// Maps (or, for pipes and "-" = stdin, reads) the whole file. `name` appears in errors.
  static Result<DumpBytes> from_file(const std::string& path);
  /// Wraps bytes already in memory (e.g. the body an exec returned).
  static DumpBytes from_string(std::string text, std::string name);

  DumpBytes(DumpBytes&& other) noexcept;
  DumpBytes& operator=(DumpBytes&& other) noexcept;
  DumpBytes(const DumpBytes&) = delete;
  DumpBytes& operator=(const DumpBytes&) = delete;
  ~DumpBytes();

  [[nodiscard]] std::string_view text() const { return m_view; }
  /// What the bytes are, for messages: "dump.json", "stdin", "pod x.ns config_dump".
  [[nodiscard]] const std::string& name() const { return m_name; }
  /// Hint that bytes before `done` will not be read again and bytes up to `next` will be soon:
  /// mapped pages before `done` are dropped (reading them later still works, it just faults them
  /// back in) and the pages ahead are mapped in one go. No-op for in-memory bytes.
  void progress(std::size_t done, std::size_t next) const;
  /// progress() as a callback for JsonReader.
  [[nodiscard]] std::function<void(std::size_t, std::size_t)> releaser() const;
  /// 1-based line and column of a byte offset, for error messages.
  [[nodiscard]] std::pair<std::size_t, std::size_t> line_column(std::size_t offset) const;

private:
  DumpBytes() = default;
  void reset() noexcept;

  std::string m_name;
  std::string m_owned;   // in-memory bytes
  void* m_map = nullptr; // mapped file
  std::size_t m_map_size = 0;
  mutable std::size_t m_released = 0;
  mutable std::size_t m_populated = 0;
  std::string_view m_view;
};

/// Fetches admin API paths from one Envoy. The verb decides the path (FACTS §6):
/// "config_dump?mask=dynamic_listeners,static_listeners", "config_dump?include_eds=true",
/// "config_dump?mask=dynamic_active_clusters,static_clusters", "clusters?format=json".
class DumpSource {
public:
  virtual ~DumpSource() = default;
  /// The response to GET /<admin_path> on the proxy's admin port.
  virtual Result<DumpBytes> get(const std::string& admin_path) = 0;
  /// Names the source in messages: "file dump.json", "pod sleep-1.wuxi".
  [[nodiscard]] virtual std::string describe() const = 0;
};

/// A dump saved earlier (`istioctl`/`curl localhost:15000/...` output). Like istioctl -f, the same
/// file answers every admin path. "-" reads stdin (once).
class FileDumpSource final : public DumpSource {
public:
  explicit FileDumpSource(std::string path) : m_path(std::move(path)) {}
  Result<DumpBytes> get(const std::string& admin_path) override;
  [[nodiscard]] std::string describe() const override;

private:
  std::string m_path;
};

} // namespace meshctl::envoy
