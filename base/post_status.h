// PostStatus: what became of a public-account article, as the wechat_posts experiment
// tells it from the fetch of its URL (test_keys.post_status, docs/experiments.md
// "wechat_posts"), and which of those words are the platform's removals. In base because
// the probe writes these words and the analyzer, which never links the probe, reads
// them. Constant tables; safe from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace vigil {

enum class PostStatus : uint8_t {
  kAvailable,            // the article itself
  kDeletedByAuthor,      // the platform's notice: its author deleted it
  kRemovedForViolation,  // the platform's notice: removed for violating regulations, or
                         // after complaints
  kAccountBlocked,       // the platform's notice: its account is blocked
  kUnreachable,          // no response: the network failed the fetch
  kUnknown,              // a response that is neither the article nor a known notice
};

/// The three removals, in the order findings list them.
inline constexpr std::array<PostStatus, 3> kRemovalStatuses = {
    PostStatus::kDeletedByAuthor, PostStatus::kRemovedForViolation, PostStatus::kAccountBlocked};

/// "available", "deleted_by_author", "removed_for_violation", "account_blocked",
/// "unreachable", "unknown".
std::string_view PostStatusName(PostStatus status);

/// The status test_keys.post_status spells `name` with; nullopt for any other word
/// (which the analyzer treats as unknown).
std::optional<PostStatus> ParsePostStatus(std::string_view name);

/// deleted_by_author, removed_for_violation or account_blocked: the platform's doing,
/// never the network's.
bool IsRemoval(PostStatus status);

/// The test_name of the measurements that carry a post_status.
inline constexpr std::string_view kPostsTestName = "wechat_posts";

}  // namespace vigil
