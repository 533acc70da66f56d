// Whole-file I/O. WriteFileAtomic writes a temp file in the same directory, fsyncs it and renames
// it over the target, so readers see the old or the new content, never a torn one.
#ifndef NBAPROPS_BASE_FILE_H_
#define NBAPROPS_BASE_FILE_H_

#include <string>
#include <string_view>

#include "base/status.h"

namespace nbaprops {

StatusOr<std::string> ReadFile(const std::string& path);
Status WriteFileAtomic(const std::string& path, std::string_view content);

}  // namespace nbaprops

#endif  // NBAPROPS_BASE_FILE_H_
