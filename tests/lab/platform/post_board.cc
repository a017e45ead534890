#include "tests/lab/platform/post_board.h"

#include <utility>

namespace vigil::lab {

PostBoard::PostBoard(Platform platform) : platform_(std::move(platform)) {
  for (const auto& post : platform_.posts) status_[post.id] = PostStatus::kAvailable;
}

std::vector<PostChange> PostBoard::Initial() const {
  std::vector<PostChange> out;
  for (const auto& post : platform_.posts) out.push_back({post.id, PostStatus::kAvailable, -1});
  return out;
}

std::vector<PostChange> PostBoard::AdvanceTo(int64_t elapsed_ms) {
  std::vector<PostChange> out;
  while (next_phase_ < platform_.phases.size() &&
         platform_.phases[next_phase_].start_ms <= elapsed_ms) {
    const PlatformPhase& phase = platform_.phases[next_phase_];
    for (const auto& [id, status] : phase.changes) {
      auto it = status_.find(id);
      if (it == status_.end() || it->second == status) continue;
      it->second = status;
      out.push_back({id, status, static_cast<int>(next_phase_)});
    }
    ++next_phase_;
  }
  return out;
}

std::optional<int64_t> PostBoard::NextPhaseMs() const {
  if (next_phase_ >= platform_.phases.size()) return std::nullopt;
  return platform_.phases[next_phase_].start_ms;
}

const PlatformPost* PostBoard::Find(std::string_view id) const {
  for (const auto& post : platform_.posts) {
    if (post.id == id) return &post;
  }
  return nullptr;
}

PostStatus PostBoard::StatusOf(const PlatformPost& post) const {
  auto it = status_.find(post.id);
  return it == status_.end() ? PostStatus::kAvailable : it->second;
}

}  // namespace vigil::lab
