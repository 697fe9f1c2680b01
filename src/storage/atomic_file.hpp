#pragma once

#include <string>
#include <string_view>

namespace autolrs::storage {

/// fsync(2) of a file or a directory: its data, or its entries, reach the disk. Throws
/// std::system_error ("cannot open <path>" / "cannot fsync <path>") on failure.
void fsync_path(const std::string& path);

/// Replaces the file at `path` with `content` atomically and durably: writes a temporary file whose
/// name is unique to this call (`<path>.tmp.<pid>.<n>`, created exclusively) in the same folder,
/// fsyncs it, renames it over `path` and fsyncs the folder. Readers see the old file or the complete
/// new one, never a torn one, and after a crash the rename is either durable or not done. The file is
/// created with mode 0644 less the umask. On failure the temporary file is removed and
/// std::system_error is thrown naming the path and the operation.
void write_file_atomically(const std::string& path, std::string_view content);

}  // namespace autolrs::storage
