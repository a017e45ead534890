#include "base/post_status.h"

#include <utility>

namespace vigil {
namespace {

constexpr std::array<std::pair<PostStatus, std::string_view>, 6> kNames = {{
    {PostStatus::kAvailable, "available"},
    {PostStatus::kDeletedByAuthor, "deleted_by_author"},
    {PostStatus::kRemovedForViolation, "removed_for_violation"},
    {PostStatus::kAccountBlocked, "account_blocked"},
    {PostStatus::kUnreachable, "unreachable"},
    {PostStatus::kUnknown, "unknown"},
}};

}  // namespace

std::string_view PostStatusName(PostStatus status) {
  for (const auto& [s, name] : kNames) {
    if (s == status) return name;
  }
  return "?";
}

std::optional<PostStatus> ParsePostStatus(std::string_view name) {
  for (const auto& [s, n] : kNames) {
    if (n == name) return s;
  }
  return std::nullopt;
}

bool IsRemoval(PostStatus status) {
  return status == PostStatus::kDeletedByAuthor || status == PostStatus::kRemovedForViolation ||
         status == PostStatus::kAccountBlocked;
}

}  // namespace vigil
