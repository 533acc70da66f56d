// The exported JSON documents (pipeline/export.h) held in memory for the HTTP API.
//
// A document is read from disk once and then served from memory until its file changes. Every
// Get stats the file (one syscall, no read) and reloads it when its inode, size or mtime differ
// from the copy held: pipeline/export.cc replaces documents by an atomic rename, so the next
// request after an export sees the new document, never a torn one. A missing file is kNotFound
// and drops any held copy (a document removed from disk is not served from memory).
//
// At most `max_documents` documents are held; past that the least recently used is dropped.
// Thread-safety: every method may be called from several threads. A returned body is immutable
// and stays valid after a reload replaces it.
#ifndef NBAPROPS_API_EXPORT_CACHE_H_
#define NBAPROPS_API_EXPORT_CACHE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "base/status.h"

namespace nbaprops::api {

class ExportCache {
 public:
  explicit ExportCache(std::string dir, size_t max_documents = 256);

  // The document at `rel` (e.g. "predictions/today.json") under the export directory. `rel` must
  // be a plain relative path (no "..", no leading '/'): kInvalidArgument otherwise.
  StatusOr<std::shared_ptr<const std::string>> Get(const std::string& rel);

  const std::string& dir() const { return dir_; }
  int64_t loads() const;  // file reads so far (tests: a cached document is not re-read)

 private:
  struct Entry {
    uint64_t inode = 0;
    int64_t size = 0;
    int64_t mtime_ns = 0;
    uint64_t last_used = 0;
    std::shared_ptr<const std::string> body;
  };

  const std::string dir_;
  const size_t max_documents_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;  // guarded by mu_
  uint64_t tick_ = 0;                     // guarded by mu_
  int64_t loads_ = 0;                     // guarded by mu_
};

}  // namespace nbaprops::api

#endif  // NBAPROPS_API_EXPORT_CACHE_H_
