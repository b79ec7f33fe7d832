#pragma once
// Writing what meshctl saves for the user (verify bundles, --output-dir manifests).

#include "core/error.hpp"

#include <filesystem>
#include <string>
#include <string_view>

namespace meshctl {

/// `text` as a file name: every character but ASCII letters, digits, '-', '_' and '.' becomes
/// '_' (so a cluster or pod name can never reach outside the directory); "" becomes "_".
std::string safe_file_name(std::string_view text);

/// Writes `text` to `path`, replacing the file. Failure is an error naming the path and why.
Result<void> write_file(const std::filesystem::path& path, std::string_view text);

} // namespace meshctl
