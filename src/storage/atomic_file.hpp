#pragma once

#include <string>
#include <string_view>

namespace autolrs::storage {

/// Replaces the file at `path` with `content` atomically: writes a temporary file in the same folder,
/// fsyncs it, renames it over `path`. Readers see the old or the new file, never a torn one.
/// Throws std::runtime_error naming the path on failure.
void write_file_atomically(const std::string& path, std::string_view content);

}  // namespace autolrs::storage
