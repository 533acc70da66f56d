// Player registry: one universal_player_id per real player (the NBA person id when known),
// a canonical name, aliases per source and team history.
//
// Resolution order: the source's own NBA id; then the full name key; then the key without a
// generational suffix (RotoWire drops "Jr."); then the nickname key ("Herb" = "Herbert"). A
// looser key is accepted only when exactly one player matches it, or when exactly one of the
// matches has played for the given team (or, without a team, has played this season at all). Anything else is
// unresolved: it goes to unresolved_player_names and never silently becomes a new player.
// Not thread-safe; load one per run.
#ifndef NBAPROPS_PIPELINE_REGISTRY_H_
#define NBAPROPS_PIPELINE_REGISTRY_H_

#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "store/store.h"

namespace nbaprops::pipeline {

struct Resolution {
  std::string player_id;  // empty when unresolved
  std::string method;     // "id", "full", "no_suffix", "nickname"
  std::string problem;    // why it is unresolved ("no player matches", "ambiguous: 2 players ...")
};

class PlayerRegistry {
 public:
  static StatusOr<PlayerRegistry> Load(store::Transaction& t);

  // `source_player_id` is an NBA person id when the source has one (may be empty); `team` is
  // the team the name appeared for, when known.
  Resolution Resolve(std::string_view name, std::string_view source_player_id, std::string_view team) const;

  // Adds a player (or only the alias when the id exists) in the store and in memory.
  Status EnsurePlayer(store::Transaction& t, const std::string& player_id, const std::string& name,
                      const std::string& origin, const std::string& birth_date);
  Status AddAlias(store::Transaction& t, const std::string& player_id, const std::string& alias,
                  const std::string& source);
  bool HasPlayer(const std::string& player_id) const { return names_.count(player_id) > 0; }
  const std::string& CanonicalName(const std::string& player_id) const;
  size_t size() const { return names_.size(); }

  // Recomputes reference_player_teams from the stored box scores.
  static Status RebuildTeamHistory(store::Transaction& t);

 private:
  void Index(const std::string& player_id, std::string_view name);
  std::string Pick(const std::set<std::string>& ids, std::string_view team, std::string* problem) const;

  std::unordered_map<std::string, std::string> names_;  // id -> canonical name
  std::unordered_map<std::string, std::set<std::string>> by_full_, by_no_suffix_, by_nickname_;
  std::unordered_map<std::string, std::set<std::string>> teams_;  // id -> teams played for
};

// Unresolved names seen by one parse, keyed by (source, full name key).
struct UnresolvedName {
  std::string original;
  std::string reason;
};
using UnresolvedNames = std::map<std::pair<std::string, std::string>, UnresolvedName>;

// Recomputes the backlog entries of these names from the raw tables (occurrences and example
// games), so re-running an import never double counts.
Status RefreshUnresolved(store::Transaction& t, const UnresolvedNames& names, int64_t now);

}  // namespace nbaprops::pipeline

#endif  // NBAPROPS_PIPELINE_REGISTRY_H_
