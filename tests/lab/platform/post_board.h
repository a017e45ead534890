// PostBoard: the lab's stand-in platform as data — each post of a scenario's platform
// section and what it shows now, moved on by the section's phases as time passes from
// the platform's start. It knows nothing of HTTP or clocks: the server asks it for the
// phases due at an elapsed time and for a post by id. Not thread-safe: one owner (the
// server guards it with a mutex).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/lab/censor/scenario.h"

namespace vigil::lab {

/// A post's status from some moment on; `phase` is the platform phase that set it, -1
/// for the state at the start.
struct PostChange {
  std::string post;
  PostStatus status = PostStatus::kAvailable;
  int phase = -1;

  friend bool operator==(const PostChange&, const PostChange&) = default;
};

class PostBoard {
 public:
  /// Every post available, no phase applied.
  explicit PostBoard(Platform platform);

  /// Every post as it stands at the start (available), in the section's order.
  std::vector<PostChange> Initial() const;

  /// Applies every phase that starts at or before `elapsed_ms` and was not applied yet,
  /// in order; the changes they made (a post listed with the status it already shows is
  /// no change), in order.
  std::vector<PostChange> AdvanceTo(int64_t elapsed_ms);

  /// When the next phase not applied yet starts; nullopt after the last.
  std::optional<int64_t> NextPhaseMs() const;

  /// The post `id`, or null.
  const PlatformPost* Find(std::string_view id) const;
  /// What `post` (one of Find's) shows now.
  PostStatus StatusOf(const PlatformPost& post) const;

  const Platform& platform() const { return platform_; }

 private:
  Platform platform_;
  std::map<std::string, PostStatus, std::less<>> status_;
  size_t next_phase_ = 0;
};

}  // namespace vigil::lab
