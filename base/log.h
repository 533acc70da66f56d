// Minimal leveled logging to stderr. Secrets must never be passed here: callers redact
// URLs and keys first (see RedactSecrets).
#ifndef NBAPROPS_BASE_LOG_H_
#define NBAPROPS_BASE_LOG_H_

#include <string_view>

namespace nbaprops {

enum class LogLevel { kDebug = 0, kInfo, kWarn, kError, kOff };

void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
void Log(LogLevel level, std::string_view message);

inline void LogInfo(std::string_view m) { Log(LogLevel::kInfo, m); }
inline void LogWarn(std::string_view m) { Log(LogLevel::kWarn, m); }
inline void LogError(std::string_view m) { Log(LogLevel::kError, m); }
inline void LogDebug(std::string_view m) { Log(LogLevel::kDebug, m); }

}  // namespace nbaprops

#endif  // NBAPROPS_BASE_LOG_H_
