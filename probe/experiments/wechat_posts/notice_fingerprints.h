// NoticeFingerprints: the texts mp.weixin.qq.com shows in place of an article it no
// longer serves, one row per text, read from testlists/fingerprints/wechat_posts.csv
// (header class,pattern,provenance,source,notes; format and sources in that folder's
// README). Each row says which removal its text tells and where the text comes from: a
// real sample, or the lab's stand-in. A malformed row is reported as "file:line: field:
// reason" rather than guessed at. Plain values and pure functions; thread-safe.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "base/post_status.h"
#include "base/result.h"

namespace vigil {

/// The header the file starts with, field for field.
inline constexpr std::array<std::string_view, 5> kNoticeFingerprintsHeader = {
    "class", "pattern", "provenance", "source", "notes"};

struct NoticeFingerprint {
  PostStatus status = PostStatus::kUnknown;  // a removal (IsRemoval)
  std::string pattern;                       // a substring of the notice page's visible text
  std::string provenance;                    // "sample" or "lab"
  std::string source;
  std::string notes;
  int line = 0;
};

/// Parses the file's text: the exact header, five fields a row, a class that is a
/// removal, provenance "sample" or "lab", a pattern of at least two characters (UTF-8,
/// no control characters or surrounding space, not listed before) and a non-empty
/// source. Blank lines are skipped. The error lists every problem (at most 20), one
/// "path:line: field: reason" a line.
Result<std::vector<NoticeFingerprint>> ParseNoticeFingerprints(std::string_view text,
                                                               const std::string& path);

/// Reads and parses the file at `path`.
Result<std::vector<NoticeFingerprint>> ReadNoticeFingerprints(const std::string& path);

/// data_dir/fingerprints/wechat_posts.csv ("testlists/..." when data_dir is empty).
std::string NoticeFingerprintsPath(const std::string& data_dir);

}  // namespace vigil
