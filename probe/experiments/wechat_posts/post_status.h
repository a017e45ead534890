// PostStatus: what became of a public-account article, as the wechat_posts experiment
// tells it from the fetch of its URL, and the words test_keys.post_status spells it with.
// Constant tables; safe from any thread.
#pragma once

#include <optional>
#include <string_view>

namespace vigil {

enum class PostStatus {
  kAvailable,            // HTTP 200 and the article itself
  kDeletedByAuthor,      // the platform's notice: its author deleted it
  kRemovedForViolation,  // the platform's notice: removed for violating regulations, or
                         // after complaints
  kAccountBlocked,       // the platform's notice: its account is blocked
  kUnreachable,          // no response: the fetch failed on the network (DNS, TCP, TLS, I/O)
  kUnknown,              // a response that is neither the article nor a known notice
};

/// "available", "deleted_by_author", "removed_for_violation", "account_blocked",
/// "unreachable", "unknown".
std::string_view PostStatusName(PostStatus status);

/// The status named `name` (PostStatusName's inverse); nullopt for any other word.
std::optional<PostStatus> ParsePostStatus(std::string_view name);

/// Whether `status` is one the platform's notices tell: deleted_by_author,
/// removed_for_violation, account_blocked.
bool IsRemoval(PostStatus status);

}  // namespace vigil
