#pragma once
// Reading the files a configuration names, and resolving the paths inside it, the way kubectl does
// for a kubeconfig: a relative path is taken from the directory of the file that names it.
// Internal to lib/config.

#include "core/error.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace meshctl::config::detail {

/// $HOME, or nullopt when it is unset or empty.
std::optional<std::string> home_dir();

/// The absolute, normalised directory of the file `origin` (relative origins are taken from the
/// working directory; if that cannot be read, the directory as written).
std::string absolute_dir_of(const std::string& origin);

/// `path` resolved against `base` (a directory) and normalised; empty and absolute paths are
/// returned as they are.
std::string resolve_path(const std::string& path, const std::string& base);

/// The most a kubeconfig, a certificate, a key or a token file may hold. A kubeconfig of a thousand
/// contexts with embedded certificates and keys is about 10 MB short of it; yaml-cpp needs some 60
/// bytes of memory per byte of YAML, so the bound also keeps parsing under a gigabyte.
inline constexpr std::size_t k_max_file_bytes = std::size_t{16} * 1024 * 1024;

/// The whole file as bytes. A directory, an unreadable file or one of more than `max_bytes` (said
/// before reading it, with its size) is an exit-2 error naming the path ("cannot read <what>
/// <path>: <reason>", `what` left out when empty) with a hint.
Result<std::string> read_file(const std::string& path, const std::string& what = {},
                              std::size_t max_bytes = k_max_file_bytes);

/// "512 KiB", "50.0 MiB", "2.0 GiB": a byte count as a person reads it.
std::string size_text(std::uintmax_t bytes);

} // namespace meshctl::config::detail
