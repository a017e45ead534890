// PostList: the WeChat public-account articles the `wechat_posts` experiment follows,
// read from CSV files under testlists/wechat_posts/ (header
// url,account,title,source,date_added; one row per article), with every malformed row
// reported as "file:line: field: reason" instead of being guessed at.
// Plain values and pure functions over files; safe to use from any thread.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "probe/testlists/test_list.h"

namespace vigil {

/// The header every post list starts with, field for field.
inline constexpr std::array<std::string_view, 5> kPostListHeader = {"url", "account", "title",
                                                                    "source", "date_added"};

/// The host of every article URL a list may hold.
inline constexpr std::string_view kPostHost = "mp.weixin.qq.com";

struct PostEntry {
  std::string url;         // https://mp.weixin.qq.com/s/<id> or .../s?__biz=..&mid=..&idx=..&sn=..
  std::string account;     // the public account's name, as it shows it
  std::string title;       // the article's title when it was listed; may be empty
  std::string source;      // where the URL was found: a URL or a citation ("lab" for the lab's)
  std::string date_added;  // YYYY-MM-DD
  std::string file;        // where the row came from, for messages
  int line = 0;
};

struct PostList {
  std::vector<std::string> files;  // the files read, in order
  std::vector<PostEntry> rows;     // in file order

  /// The URLs, in row order.
  std::vector<std::string> Urls() const;
};

/// "" when `url` is an article URL as lists write it, else why not: http or https, host
/// mp.weixin.qq.com without a port, and either the path /s/<id> (id: letters, digits,
/// '-' and '_') without a query, or the path /s with a query that gives __biz, mid, idx
/// and sn; no fragment (it is never sent) and no whitespace.
std::string PostUrlProblem(std::string_view url);

/// Every problem of one list's text, as Problems whose column is the CSV field number and
/// whose message is "field: reason": broken quoting, a header other than kPostListHeader,
/// a row without five fields, a bad URL (PostUrlProblem), an empty account or source,
/// control characters or surrounding space in a field, text that is not UTF-8, a
/// date_added that is not a real YYYY-MM-DD date or lies in the future, and a URL listed
/// twice. Blank lines are skipped.
std::vector<Problem> CheckPostList(std::string_view text, const std::string& path);

/// The same over files read as one list: a file that cannot be read is a problem, and so
/// is a URL that another file lists too.
std::vector<Problem> CheckPostListFiles(const std::vector<std::string>& paths);

/// Parses one list's text. The error lists the problems (at most 20), one
/// "path:line: field: reason" a line.
Result<PostList> ParsePostList(std::string_view text, const std::string& path);

/// Reads every *.csv file in `dir` (sorted by name) as one list.
Result<PostList> ReadPostLists(const std::string& dir);

/// data_dir/wechat_posts ("testlists/wechat_posts" when data_dir is empty).
std::string PostListDir(const std::string& data_dir);

/// True when `text` starts with kPostListHeader (a byte order mark and CRLF allowed): how
/// `vigil lists check` tells post lists from URL lists.
bool LooksLikePostList(std::string_view text);

}  // namespace vigil
