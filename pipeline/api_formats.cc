// Shape detection for `nbaprops import` (LooksLike* in api_formats.h). The parsers themselves are in
// balldontlie_format.cc and odds_api_format.cc; their shared JSON helpers are in json_payload.h.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/api_formats.h"
#include "pipeline/json_payload.h"

namespace nbaprops::pipeline {
namespace {

using json_payload::json;

// Walks the start of a document without building it and remembers its first levels: root keys,
// the keys of data[0] and of meta. Whatever was seen before a syntax error is kept, so a truncated
// download is still recognized.
class ShapeSniffer : public nlohmann::json_sax<json> {
 public:
  bool root_is_object = false;
  bool data_is_array = false;
  std::set<std::string> root_keys;
  std::set<std::string> first_item_keys;  // keys of data[0]
  std::set<std::string> meta_keys;

  bool null() override { return Value(); }
  bool boolean(bool) override { return Value(); }
  bool number_integer(number_integer_t) override { return Value(); }
  bool number_unsigned(number_unsigned_t) override { return Value(); }
  bool number_float(number_float_t, const string_t&) override { return Value(); }
  bool string(string_t&) override { return Value(); }
  bool binary(binary_t&) override { return Value(); }
  bool start_object(std::size_t) override {
    Value();
    if (stack_.empty()) root_is_object = true;
    stack_.push_back({false, "", -1});
    return true;
  }
  bool key(string_t& k) override {
    stack_.back().key = k;
    if (stack_.size() == 1) root_keys.insert(k);
    if (InFirstDataItem()) first_item_keys.insert(k);
    if (stack_.size() == 2 && RootKeyIs("meta") && !stack_[1].is_array) meta_keys.insert(k);
    return true;
  }
  bool end_object() override {
    stack_.pop_back();
    // data[0] is all detection needs from the rows; stop rather than walk a 100-row page.
    return !(stack_.size() == 2 && RootKeyIs("data") && stack_[1].is_array && stack_[1].index == 0);
  }
  bool start_array(std::size_t) override {
    Value();
    if (stack_.size() == 1 && RootKeyIs("data") && !stack_[0].is_array) data_is_array = true;
    stack_.push_back({true, "", -1});
    return true;
  }
  bool end_array() override {
    stack_.pop_back();
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

 private:
  struct Frame {
    bool is_array;
    std::string key;  // current key of an object
    int64_t index;    // current element of an array
  };

  bool Value() {
    if (!stack_.empty() && stack_.back().is_array) ++stack_.back().index;
    return true;
  }
  bool RootKeyIs(std::string_view k) const { return !stack_.empty() && !stack_[0].is_array && stack_[0].key == k; }
  bool InFirstDataItem() const {
    return stack_.size() == 3 && RootKeyIs("data") && stack_[1].is_array && stack_[1].index == 0 && !stack_[2].is_array;
  }

  std::vector<Frame> stack_;
};

ShapeSniffer Sniff(std::string_view text) {
  ShapeSniffer sniffer;
  json::sax_parse(text.begin(), text.end(), &sniffer);  // false on a syntax error or an early stop: fine
  return sniffer;
}

}  // namespace

bool LooksLikeBalldontlieStats(std::string_view text) {
  ShapeSniffer s = Sniff(text);
  if (!s.root_is_object || !s.data_is_array) return false;
  int hits = 0;
  for (const char* k : {"pts", "min", "player", "team", "game", "turnover", "fg3m"}) hits += s.first_item_keys.count(k);
  if (hits >= 2) return true;
  // An empty last page has no rows to look at; its meta still has balldontlie's pagination fields.
  return s.first_item_keys.empty() && (s.meta_keys.count("next_cursor") || s.meta_keys.count("per_page"));
}

bool LooksLikeOddsApiEventOdds(std::string_view text) {
  ShapeSniffer s = Sniff(text);
  if (!s.root_is_object || !s.root_keys.count("bookmakers")) return false;
  return s.root_keys.count("commence_time") || s.root_keys.count("sport_key") || s.root_keys.count("home_team");
}

}  // namespace nbaprops::pipeline
