#include "api/export_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace nbaprops::api {
namespace {

int64_t MtimeNs(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

bool SafeRelative(const std::string& rel) {
  if (rel.empty() || rel.front() == '/') return false;
  size_t start = 0;
  while (start <= rel.size()) {
    size_t end = rel.find('/', start);
    if (end == std::string::npos) end = rel.size();
    const std::string part = rel.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

// Reads the whole file through one descriptor, so the stat describes exactly the bytes read even
// when an export renames a new file over the path meanwhile.
Status ReadWithStat(const std::string& path, std::string* body, struct stat* st) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFoundError(path);
    return UnavailableError("cannot open " + path + ": " + std::strerror(errno));
  }
  Status result;
  if (::fstat(fd, st) != 0) {
    result = UnavailableError("cannot stat " + path + ": " + std::strerror(errno));
  } else {
    body->resize(static_cast<size_t>(st->st_size));
    size_t done = 0;
    while (done < body->size()) {
      ssize_t n = ::read(fd, body->data() + done, body->size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        result = UnavailableError("cannot read " + path + ": " + std::strerror(errno));
        break;
      }
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    body->resize(done);
  }
  ::close(fd);
  return result;
}

}  // namespace

ExportCache::ExportCache(std::string dir, size_t max_documents)
    : dir_(std::move(dir)), max_documents_(max_documents == 0 ? 1 : max_documents) {}

int64_t ExportCache::loads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return loads_;
}

StatusOr<std::shared_ptr<const std::string>> ExportCache::Get(const std::string& rel) {
  if (!SafeRelative(rel))
    return InvalidArgumentError("'" + rel + "' is not a document path under the export directory");
  const std::string path = dir_ + "/" + rel;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    std::lock_guard<std::mutex> lock(mu_);
    entries_.erase(rel);
    if (errno == ENOENT || errno == ENOTDIR) return NotFoundError("no document " + path);
    return UnavailableError("cannot stat " + path + ": " + std::strerror(errno));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(rel);
    if (it != entries_.end() && it->second.inode == st.st_ino && it->second.size == st.st_size &&
        it->second.mtime_ns == MtimeNs(st)) {
      it->second.last_used = ++tick_;
      return it->second.body;
    }
  }
  // Read outside the lock: other documents keep being served meanwhile.
  auto body = std::make_shared<std::string>();
  struct stat read_st {};
  Status s = ReadWithStat(path, body.get(), &read_st);
  if (!s.ok()) {
    if (s.code() == StatusCode::kNotFound) return NotFoundError("no document " + path);
    return s;
  }
  std::lock_guard<std::mutex> lock(mu_);
  ++loads_;
  Entry& e = entries_[rel];
  e.inode = read_st.st_ino;
  e.size = read_st.st_size;
  e.mtime_ns = MtimeNs(read_st);
  e.last_used = ++tick_;
  e.body = body;
  while (entries_.size() > max_documents_) {
    auto oldest = entries_.begin();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->second.last_used < oldest->second.last_used) oldest = it;
    }
    entries_.erase(oldest);
  }
  return std::shared_ptr<const std::string>(std::move(body));
}

}  // namespace nbaprops::api
