#include "tests/lab/censor/platform_settings.h"

#include <algorithm>
#include <map>
#include <set>

namespace vigil::lab {
namespace {

constexpr size_t kMaxIdLength = 64;

bool PlausibleId(const std::string& id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

// A required, non-empty string.
bool Text(FieldReader* r, const YAML::Node& k, const std::string& key, const YAML::Node& v,
          std::string* out) {
  if (!r->String(k, key, v, out)) return false;
  if (out->empty()) {
    r->Fail(v, key, "empty");
    return false;
  }
  return true;
}

void ParsePost(FieldReader* r, const YAML::Node& item, std::set<std::string>* ids,
               std::vector<PlatformPost>* out) {
  if (!item.IsMap()) {
    r->Fail(item, "posts", std::string("expected a mapping, got ") + YamlTypeName(item));
    return;
  }
  PlatformPost post;
  post.line = static_cast<int>(item.Mark().line) + 1;
  const size_t errors = r->error_count();
  std::set<std::string> given;
  r->ForEachKey(item, [&](const std::string& k, const YAML::Node& kn, const YAML::Node& v) {
    std::string* field = k == "id"        ? &post.id
                         : k == "account" ? &post.account
                         : k == "title"   ? &post.title
                         : k == "body"    ? &post.body
                                          : nullptr;
    if (field == nullptr) return false;
    given.insert(k);
    if (Text(r, kn, k, v, field) && k == "id") {
      if (!PlausibleId(post.id)) {
        r->Fail(v, k, "\"" + post.id + "\" must be 1-64 letters, digits, '-' or '_'");
      } else if (!ids->insert(post.id).second) {
        r->Fail(v, k, "duplicate post id \"" + post.id + "\"");
      }
    }
    return true;
  });
  for (const char* key : {"id", "account", "title", "body"}) {
    if (!given.contains(key)) r->Fail(item, key, "missing");
  }
  if (r->error_count() == errors) out->push_back(std::move(post));
}

struct ChangeKey {
  const char* name;
  PostStatus status;
};
constexpr ChangeKey kChangeKeys[] = {
    {"deleted_by_author", PostStatus::kDeletedByAuthor},
    {"removed_for_violation", PostStatus::kRemovedForViolation},
    {"account_blocked", PostStatus::kAccountBlocked},
};

// One phase; `state` is every post's status before it, updated with its changes.
void ParsePhase(FieldReader* r, const YAML::Node& item, const std::vector<PlatformPost>& posts,
                int64_t* last_start, std::map<std::string, PostStatus>* state,
                std::vector<PlatformPhase>* out) {
  if (!item.IsMap()) {
    r->Fail(item, "phases", std::string("expected a mapping, got ") + YamlTypeName(item));
    return;
  }
  PlatformPhase phase;
  phase.line = static_cast<int>(item.Mark().line) + 1;
  bool have_start = false;
  std::set<std::string> listed;
  bool any_change = false;
  int blocked_line = 0;
  r->ForEachKey(item, [&](const std::string& k, const YAML::Node& kn, const YAML::Node& v) {
    if (k == "start") {
      have_start = r->Duration(kn, k, v, &phase.start_ms);
      if (have_start && phase.start_ms <= *last_start) {
        r->Fail(v, k, "phases must start in increasing order");
      }
      return true;
    }
    const ChangeKey* change = nullptr;
    for (const auto& c : kChangeKeys) {
      if (k == c.name) change = &c;
    }
    if (change == nullptr) return false;
    any_change = true;
    if (change->status == PostStatus::kAccountBlocked) {
      blocked_line = static_cast<int>(kn.Mark().line) + 1;
    }
    std::vector<ScalarItem> ids;
    if (!r->ScalarList(kn, k, v, &ids)) return true;
    for (const auto& [id, node] : ids) {
      if (!state->contains(id)) {
        r->Fail(node, k, "no post \"" + id + "\" in platform.posts");
      } else if (!listed.insert(id).second) {
        r->Fail(node, k, "post \"" + id + "\" is listed twice in this phase");
      } else {
        phase.changes.emplace_back(id, change->status);
      }
    }
    return true;
  });
  if (!have_start && !FieldReader::Has(item, "start")) r->Fail(item, "start", "missing");
  if (have_start) *last_start = phase.start_ms;
  if (!any_change) {
    r->Fail(item, "phases",
            "changes no post (give deleted_by_author, removed_for_violation or account_blocked)");
  }
  for (const auto& [id, status] : phase.changes) (*state)[id] = status;
  // A blocked account shows the block on every article of it.
  std::set<std::string> blocked_accounts;
  for (const auto& post : posts) {
    if ((*state)[post.id] == PostStatus::kAccountBlocked) blocked_accounts.insert(post.account);
  }
  for (const auto& post : posts) {
    if (blocked_accounts.contains(post.account) &&
        (*state)[post.id] != PostStatus::kAccountBlocked) {
      r->Fail(blocked_line != 0 ? blocked_line : phase.line, "account_blocked",
              "account \"" + post.account + "\" is blocked, but its post \"" + post.id +
                  "\" is not: block it in the same phase");
    }
  }
  out->push_back(std::move(phase));
}

}  // namespace

void ParsePlatform(FieldReader* r, const YAML::Node& kn, const YAML::Node& v, Platform* out) {
  if (!r->Map(kn, "platform", v)) return;
  YAML::Node posts_key, phases_key;
  const YAML::Node posts = FieldReader::Find(v, "posts", &posts_key);
  const YAML::Node phases = FieldReader::Find(v, "phases", &phases_key);
  r->ForEachKey(v, [&](const std::string& k, const YAML::Node&, const YAML::Node&) {
    return k == "posts" || k == "phases";
  });
  if (!posts.IsDefined()) {
    r->Fail(kn, "posts", "missing");
    return;
  }
  if (!posts.IsSequence() || posts.size() == 0) {
    r->Fail(posts.IsNull() ? posts_key : posts, "posts",
            posts.IsSequence() ? "needs at least one post"
                               : std::string("expected a list, got ") + YamlTypeName(posts));
    return;
  }
  std::set<std::string> ids;
  for (const auto& item : posts) ParsePost(r, item, &ids, &out->posts);
  if (!phases.IsDefined() || phases.IsNull()) return;
  if (!phases.IsSequence()) {
    r->Fail(phases, "phases", std::string("expected a list, got ") + YamlTypeName(phases));
    return;
  }
  std::map<std::string, PostStatus> state;
  for (const auto& post : out->posts) state[post.id] = PostStatus::kAvailable;
  int64_t last_start = -1;
  for (const auto& item : phases)
    ParsePhase(r, item, out->posts, &last_start, &state, &out->phases);
}

}  // namespace vigil::lab
