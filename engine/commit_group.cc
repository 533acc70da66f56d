#include "engine/commit_group.h"

#include <algorithm>
#include <vector>

namespace nbaprops::engine {

struct CommitGroup::Member {
  enum class State { kWaiting, kTaken, kCommitted, kAlone };
  Member(const Body* b, const std::string* k) : body(b), order_key(k) {}
  const Body* body;
  const std::string* order_key;
  State state = State::kWaiting;  // guarded by mu_
  std::condition_variable cv;     // its thread waits on it: woken only when it has something to do
};

CommitGroup::CommitGroup(store::Store& store, CommitGroupOptions options) : store_(store), options_(options) {}

int CommitGroup::waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(waiting_.size());
}

Status CommitGroup::Commit(const Body& body, const std::function<void()>& reset, const std::string& order_key) {
  using State = Member::State;
  Member me(&body, &order_key);
  std::vector<Member*> group;
  {
    std::unique_lock<std::mutex> lock(mu_);
    waiting_.push_back(&me);
    // The earliest waiting commit leads when a transaction slot frees up.
    me.cv.wait(lock, [&] {
      return me.state != State::kWaiting || (in_flight_ < options_.max_in_flight && waiting_.front() == &me);
    });
    if (me.state == State::kWaiting) {
      // A free slot: lead a transaction of this commit and the earliest waiting ones.
      waiting_.erase(std::find(waiting_.begin(), waiting_.end(), &me));
      me.state = State::kTaken;
      group.push_back(&me);
      while (!waiting_.empty() && static_cast<int>(group.size()) < options_.max_members) {
        waiting_.front()->state = State::kTaken;
        group.push_back(waiting_.front());
        waiting_.pop_front();
      }
      ++in_flight_;
      // More waiting than one transaction takes, and a slot free: the next in line leads too.
      if (!waiting_.empty() && in_flight_ < options_.max_in_flight) waiting_.front()->cv.notify_one();
    } else {
      me.cv.wait(lock, [&] { return me.state == State::kCommitted || me.state == State::kAlone; });
    }
  }
  if (!group.empty()) {
    const Status s = RunTogether(group);
    {
      std::lock_guard<std::mutex> lock(mu_);
      --in_flight_;
      for (Member* m : group) {
        m->state = s.ok() ? State::kCommitted : State::kAlone;
        if (m != &me) m->cv.notify_one();
      }
      if (!waiting_.empty()) waiting_.front()->cv.notify_one();
    }
    if (s.ok() || group.size() == 1) return s;  // alone already: its own outcome
  }
  if (me.state == State::kCommitted) return OkStatus();
  ++fallbacks_;
  reset();
  return RunAlone(body);
}

Status CommitGroup::RunTogether(std::vector<Member*>& members) {
  std::stable_sort(members.begin(), members.end(),
                   [](const Member* a, const Member* b) { return *a->order_key < *b->order_key; });
  ++transactions_;
  Status s = store_.With(store::TxnMode::kRunCommit, [&](store::Transaction& t) -> Status {
    for (Member* m : members) RETURN_IF_ERROR((*m->body)(t));
    return OkStatus();
  });
  if (s.ok() && members.size() > 1) commits_ += static_cast<int64_t>(members.size());
  return s;
}

Status CommitGroup::RunAlone(const Body& body) {
  ++transactions_;
  return store_.With(store::TxnMode::kRunCommit, body);
}

}  // namespace nbaprops::engine
