#pragma once
// Reading the files a configuration names, and resolving the paths inside it, the way kubectl does
// for a kubeconfig: a relative path is taken from the directory of the file that names it.
// Internal to lib/config.

#include "core/error.hpp"

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

/// The whole file as bytes. A directory or an unreadable file is an exit-2 error naming the path
/// ("cannot read <what> <path>: <reason>", `what` left out when empty) with a hint.
Result<std::string> read_file(const std::string& path, const std::string& what = {});

} // namespace meshctl::config::detail
