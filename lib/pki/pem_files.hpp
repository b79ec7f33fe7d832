#pragma once
// Internal to lib/pki: the files of the PKI directory, read strictly and written so that a key is
// never readable by others, not even for an instant, and a crash never leaves half a file behind.

#include "core/error.hpp"

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace meshctl::pki::detail {

inline constexpr mode_t k_private_file_mode = 0600;
inline constexpr mode_t k_public_file_mode = 0644;

/// A certificate and its key, as PEM texts.
struct PemFiles {
  std::string cert;
  std::string key;
};

/// Whether `p` exists (false when that cannot be told).
bool path_exists(const std::filesystem::path& p);

/// The whole of file `p`; a missing file or a directory is a usage error.
Result<std::string> read_text(const std::filesystem::path& p);

/// Reads a certificate and its key; the key is registered as a secret. Errors carry `ctx`.
Result<PemFiles> read_pem_files(const std::filesystem::path& cert_path,
                                const std::filesystem::path& key_path, const std::string& ctx);

/// Reads `cert_file` and `key_file` in `dir`: nullopt when both are absent, an error (with
/// `hint_missing` when one of the two is absent) when they cannot both be read. The key is
/// registered as a secret and a key file others can read is warned about. Errors carry `ctx`.
Result<std::optional<PemFiles>> read_ca_files(const std::filesystem::path& dir,
                                              std::string_view cert_file, std::string_view key_file,
                                              const std::string& hint_missing,
                                              const std::string& ctx);

/// Creates `dir` and its missing parents with mode 0700.
Result<void> ensure_private_dir(const std::filesystem::path& dir);

/// Writes `content` to `path` atomically with `mode`: a temp file created 0600 by mkstemp (umask
/// does not apply to fchmod), given its final mode, synced, then renamed into place. Without
/// `replace`, an existing file is left alone and the result is a usage error.
Result<void> write_atomic(const std::filesystem::path& path, std::string_view content, mode_t mode,
                          bool replace);

/// Leaves a file whose content is already right untouched (its mtime, its mode, a read-only dir);
/// else write_atomic() with `replace`.
Result<void> write_if_changed(const std::filesystem::path& path, std::string_view content,
                              mode_t mode);

} // namespace meshctl::pki::detail
