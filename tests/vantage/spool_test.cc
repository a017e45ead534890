// The spool: measurements put are on disk (private to the volunteer) until marked
// sent, listed in uid order, survive crash leftovers, and bad input is refused.
#include "vantage/spool/spool.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include "base/utc_time.h"
#include "vantage/base/durable_file.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/vigil_spool_test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    root_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  static mode_t Mode(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  }
  static void Touch(const std::string& path) { std::ofstream(path) << "{\"partial"; }

  std::string root_;
};

std::vector<std::string> Uids(const std::vector<SpoolEntry>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(e.uid);
  return out;
}

TEST_F(SpoolTest, PutListReadMarkSent) {
  auto spool = Spool::Open(root_ + "/spool");
  ASSERT_TRUE(spool.ok()) << spool.error();
  EXPECT_EQ(Mode(root_ + "/spool"), 0700u);
  EXPECT_EQ(Mode(root_ + "/spool/pending"), 0700u);
  EXPECT_EQ(Mode(root_ + "/spool/sent"), 0700u);

  auto b = spool->Put("20261203T112234Z_bbbb", R"({"test_name":"signal"})");
  ASSERT_TRUE(b.ok()) << b.error();
  EXPECT_EQ(b->path, root_ + "/spool/pending/20261203T112234Z_bbbb.json");
  EXPECT_EQ(Mode(b->path), 0600u);
  auto a = spool->Put("20261203T112233Z_aaaa", R"({"test_name":"whatsapp"})");
  ASSERT_TRUE(a.ok()) << a.error();

  auto pending = spool->Pending();
  ASSERT_TRUE(pending.ok()) << pending.error();
  EXPECT_EQ(Uids(*pending),
            (std::vector<std::string>{"20261203T112233Z_aaaa", "20261203T112234Z_bbbb"}));
  auto text = spool->Read((*pending)[1]);
  ASSERT_TRUE(text.ok()) << text.error();
  EXPECT_EQ(*text, R"({"test_name":"signal"})");

  ASSERT_TRUE(spool->MarkSent("20261203T112233Z_aaaa").ok());
  EXPECT_EQ(Uids(*spool->Pending()), (std::vector<std::string>{"20261203T112234Z_bbbb"}));
  auto sent = spool->Sent();
  ASSERT_TRUE(sent.ok()) << sent.error();
  ASSERT_EQ(Uids(*sent), (std::vector<std::string>{"20261203T112233Z_aaaa"}));
  EXPECT_EQ(*spool->Read((*sent)[0]), R"({"test_name":"whatsapp"})");
  // Marking again (another uploader got there first) is fine; an unknown uid is not.
  EXPECT_TRUE(spool->MarkSent("20261203T112233Z_aaaa").ok());
  auto unknown = spool->MarkSent("nope");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().find("nope.json"), std::string::npos) << unknown.error();

  // A second Spool over the same directory (another process) sees the same state.
  auto again = Spool::Open(root_ + "/spool/");
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_EQ(Uids(*again->Pending()), (std::vector<std::string>{"20261203T112234Z_bbbb"}));
  EXPECT_EQ(again->removed_temp_files(), 0u);
}

TEST_F(SpoolTest, WithoutKeepSentMarkSentDeletes) {
  auto spool = Spool::Open(root_, SpoolOptions{.keep_sent = false});
  ASSERT_TRUE(spool.ok()) << spool.error();
  auto e = spool->Put("u1", "{}");
  ASSERT_TRUE(e.ok()) << e.error();
  ASSERT_TRUE(spool->MarkSent("u1").ok());
  EXPECT_FALSE(fs::exists(e->path));
  EXPECT_TRUE(spool->Sent()->empty());
  EXPECT_TRUE(spool->Pending()->empty());
}

TEST_F(SpoolTest, CrashLeftoversAreDeletedOnOpenButLiveWritesAreNot) {
  const std::string pending = root_ + "/pending";
  ASSERT_TRUE(MakeDirectories(pending).ok());
  // A dead writer's temp file (no process has this pid), and one of an unparsable pid.
  Touch(pending + "/a.json.tmp.999999999.123456");
  Touch(pending + "/b.json.tmp.junk.1");
  // A live writer's (this process's): another Spool here may be mid-Put.
  const std::string live = pending + "/c.json.tmp." + std::to_string(::getpid()) + ".42";
  Touch(live);
  // A live pid but two days old: the pid was reused, the file is a leftover.
  const std::string stale = pending + "/d.json.tmp." + std::to_string(::getpid()) + ".43";
  Touch(stale);
  const struct timespec old[2] = {{::time(nullptr) - 2 * 86400, 0},
                                  {::time(nullptr) - 2 * 86400, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, stale.c_str(), old, 0), 0);
  ASSERT_TRUE(WriteFileDurably(pending + "/kept.json", "{}").ok());

  auto spool = Spool::Open(root_);
  ASSERT_TRUE(spool.ok()) << spool.error();
  EXPECT_EQ(spool->removed_temp_files(), 3u);
  EXPECT_FALSE(fs::exists(pending + "/a.json.tmp.999999999.123456"));
  EXPECT_FALSE(fs::exists(pending + "/b.json.tmp.junk.1"));
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(live));
  EXPECT_EQ(Uids(*spool->Pending()), (std::vector<std::string>{"kept"}));
}

TEST_F(SpoolTest, BadUidsAndNonObjectsAreRefused) {
  auto spool = Spool::Open(root_);
  ASSERT_TRUE(spool.ok()) << spool.error();
  for (const std::string& uid :
       std::vector<std::string>{"", "../escape", "a/b", "with space", ".", "..", "tab\t",
                                std::string(129, 'x'), std::string("nul\0x", 5)}) {
    auto put = spool->Put(uid, "{}");
    ASSERT_FALSE(put.ok()) << uid;
    EXPECT_NE(put.error().find("invalid uid"), std::string::npos) << put.error();
    EXPECT_FALSE(spool->MarkSent(uid).ok()) << uid;
  }
  EXPECT_TRUE(spool->Put(std::string(128, 'x'), "{}").ok());
  EXPECT_TRUE(spool->Put("A-z_0.9", "{}").ok());
  for (const char* json : {"", "[1]", "not json", "{\"a\":1}\n{\"b\":2}", "{\"a\":1"}) {
    auto put = spool->Put("json", json);
    EXPECT_FALSE(put.ok()) << json;
  }
  EXPECT_FALSE(fs::exists(root_ + "/pending/json.json"));
  EXPECT_FALSE(fs::exists(root_ + "/pending/escape.json"));
  EXPECT_FALSE(fs::exists(root_ + "/escape.json"));
}

TEST_F(SpoolTest, AUidNamesOneMeasurement) {
  auto spool = Spool::Open(root_);
  ASSERT_TRUE(spool.ok()) << spool.error();
  ASSERT_TRUE(spool->Put("u", R"({"n":1})").ok());
  EXPECT_TRUE(spool->Put("u", R"({"n":1})").ok());  // a retry
  auto other = spool->Put("u", R"({"n":2})");
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.error().find("different measurement"), std::string::npos) << other.error();
  ASSERT_TRUE(spool->MarkSent("u").ok());
  EXPECT_FALSE(spool->Put("u", R"({"n":2})").ok());  // sent ones too
  auto retry = spool->Put("u", R"({"n":1})");
  ASSERT_TRUE(retry.ok()) << retry.error();
  EXPECT_EQ(retry->path, root_ + "/sent/u.json");
  EXPECT_TRUE(spool->Pending()->empty());
  EXPECT_EQ(*spool->Read(*retry), R"({"n":1})");
}

TEST_F(SpoolTest, ConcurrentPutsAreAllKept) {
  auto spool = Spool::Open(root_);
  ASSERT_TRUE(spool.ok()) << spool.error();
  constexpr int kThreads = 4, kEach = 50;
  std::vector<std::thread> threads;
  std::vector<std::string> errors(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const std::string uid = "t" + std::to_string(t) + "_" + std::to_string(i);
        auto put = spool->Put(uid, "{\"uid\":\"" + uid + "\"}");
        if (!put.ok()) errors[t] = put.error();
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& e : errors) EXPECT_EQ(e, "");
  auto pending = spool->Pending();
  ASSERT_TRUE(pending.ok()) << pending.error();
  ASSERT_EQ(pending->size(), static_cast<size_t>(kThreads * kEach));
  for (const auto& entry : *pending) {
    EXPECT_EQ(*spool->Read(entry), "{\"uid\":\"" + entry.uid + "\"}");
  }
  size_t temps = 0;
  for (const auto& f : fs::directory_iterator(root_ + "/pending")) {
    temps += f.path().filename().string().find(".tmp.") != std::string::npos;
  }
  EXPECT_EQ(temps, 0u);
}

TEST_F(SpoolTest, UncreatableDirectoryIsAnErrorNamingIt) {
  const std::string file = root_ + "/regular";
  std::ofstream(file) << "x";
  auto spool = Spool::Open(file + "/spool");
  ASSERT_FALSE(spool.ok());
  EXPECT_NE(spool.error().find(file + "/spool"), std::string::npos) << spool.error();
  EXPECT_NE(spool.error().find("not a directory"), std::string::npos) << spool.error();
  EXPECT_FALSE(Spool::Open("").ok());
}

TEST_F(SpoolTest, ABatchIsOneFileAndChecksEachEntry) {
  auto spool = Spool::Open(root_ + "/spool");
  ASSERT_TRUE(spool.ok()) << spool.error();
  ASSERT_TRUE(spool->Put("u1", R"({"n":1})").ok());
  auto batch = spool->PutBatch({{"u1", R"({"n":1})"}, {"u2", R"({"n":2})"}, {"u3", R"({"n":3})"}});
  ASSERT_TRUE(batch.ok()) << batch.error();
  ASSERT_EQ(batch->size(), 3u);
  // u1 was a file of its own already; the new ones share one batch file.
  EXPECT_EQ((*batch)[0].path, root_ + "/spool/pending/u1.json");
  EXPECT_FALSE((*batch)[0].in_batch);
  EXPECT_EQ((*batch)[1].path, root_ + "/spool/pending/u2.2.batch");
  EXPECT_EQ((*batch)[2].path, root_ + "/spool/pending/u2.2.batch");
  EXPECT_TRUE((*batch)[2].in_batch);
  EXPECT_EQ(Mode((*batch)[2].path), 0600u);
  EXPECT_EQ(*spool->Read((*batch)[2]), R"({"n":3})");
  auto pending = spool->Pending();
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(Uids(*pending), (std::vector<std::string>{"u1", "u2", "u3"}));
  EXPECT_EQ(*spool->Read((*pending)[1]), R"({"n":2})");
  // The same batch again is a no-op.
  auto again = spool->PutBatch({{"u2", R"({"n":2})"}, {"u3", R"({"n":3})"}});
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_EQ((*again)[1].path, root_ + "/spool/pending/u2.2.batch");
  // A bad entry fails the batch and nothing is written; a uid spooled with other bytes
  // as a file of its own is refused, and so is another batch under an existing name.
  auto bad = spool->PutBatch({{"u4", R"({"n":4})"}, {"u5", "not json"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("u5.json"), std::string::npos) << bad.error();
  auto clash = spool->PutBatch({{"u1", R"({"n":11})"}, {"u6", R"({"n":6})"}});
  ASSERT_FALSE(clash.ok());
  EXPECT_NE(clash.error().find("different measurement"), std::string::npos) << clash.error();
  auto renamed = spool->PutBatch({{"u2", R"({"n":22})"}, {"u7", R"({"n":7})"}});
  ASSERT_FALSE(renamed.ok());
  EXPECT_NE(renamed.error().find("other measurements"), std::string::npos) << renamed.error();
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(root_ + "/spool/pending")) {
    files.push_back(e.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{"u1.json", "u2.2.batch"}));
}

// Acknowledgements of a batch's measurements are kept beside it until all are in; then
// the batch moves to sent/ whole (or is deleted without keep_sent).
TEST_F(SpoolTest, ABatchLeavesPendingWhenAllItsMeasurementsAreAcknowledged) {
  for (const bool keep : {true, false}) {
    SCOPED_TRACE(keep ? "keep_sent" : "delete sent");
    const std::string dir = root_ + (keep ? "/keep" : "/drop");
    auto spool = Spool::Open(dir, SpoolOptions{.keep_sent = keep});
    ASSERT_TRUE(spool.ok()) << spool.error();
    ASSERT_TRUE(
        spool->PutBatch({{"b1", R"({"n":1})"}, {"b2", R"({"n":2})"}, {"b3", R"({"n":3})"}}).ok());
    auto pending = spool->Pending();
    ASSERT_TRUE(pending.ok());
    ASSERT_EQ(pending->size(), 3u);
    ASSERT_TRUE(spool->MarkSent((*pending)[1]).ok());
    ASSERT_TRUE(spool->MarkSent((*pending)[1]).ok()) << "marking twice (racing uploaders) is fine";
    EXPECT_TRUE(fs::exists(dir + "/pending/b1.3.batch.sent"));
    // Another Spool over the directory (another process) sees the same.
    auto other = Spool::Open(dir, SpoolOptions{.keep_sent = keep});
    ASSERT_TRUE(other.ok());
    EXPECT_EQ(Uids(*other->Pending()), (std::vector<std::string>{"b1", "b3"}));
    ASSERT_TRUE(other->MarkSent("b1").ok()) << "by uid, the batch is found";
    EXPECT_TRUE(fs::exists(dir + "/pending/b1.3.batch"));
    ASSERT_TRUE(spool->MarkSent((*pending)[2]).ok());
    EXPECT_TRUE(spool->Pending()->empty());
    EXPECT_FALSE(fs::exists(dir + "/pending/b1.3.batch"));
    EXPECT_FALSE(fs::exists(dir + "/pending/b1.3.batch.sent"));
    if (keep) {
      auto sent = spool->Sent();
      ASSERT_TRUE(sent.ok());
      EXPECT_EQ(Uids(*sent), (std::vector<std::string>{"b1", "b2", "b3"}));
      EXPECT_EQ(*spool->Read((*sent)[2]), R"({"n":3})");
      // An entry listed before the batch moved still reads.
      EXPECT_EQ(*spool->Read((*pending)[0]), R"({"n":1})");
      EXPECT_TRUE(spool->MarkSent("b2").ok());
    } else {
      EXPECT_TRUE(spool->Sent()->empty());
      EXPECT_FALSE(fs::exists(dir + "/sent/b1.3.batch"));
    }
  }
}

TEST_F(SpoolTest, OpenRemovesBatchLeftovers) {
  const std::string pending = root_ + "/pending";
  ASSERT_TRUE(MakeDirectories(pending).ok());
  Touch(pending + "/x1.2.batch.tmp.999999999.7");  // a dead writer's
  Touch(pending + "/gone.4.batch.sent");           // marks of a retired batch
  ASSERT_TRUE(WriteFileDurably(pending + "/k1.1.batch", "k1\t{}\n").ok());
  Touch(pending + "/k1.1.batch.sent.tmp");  // not ours: left alone
  ASSERT_TRUE(WriteFileDurably(pending + "/k1.1.batch.sent", "").ok());
  auto spool = Spool::Open(root_);
  ASSERT_TRUE(spool.ok()) << spool.error();
  EXPECT_EQ(spool->removed_temp_files(), 2u);
  EXPECT_FALSE(fs::exists(pending + "/x1.2.batch.tmp.999999999.7"));
  EXPECT_FALSE(fs::exists(pending + "/gone.4.batch.sent"));
  EXPECT_TRUE(fs::exists(pending + "/k1.1.batch.sent"));
  EXPECT_EQ(Uids(*spool->Pending()), (std::vector<std::string>{"k1"}));
}

TEST(NewLocalUid, IsTimestampedRandomAndValid) {
  const std::regex shape("[0-9]{8}T[0-9]{6}Z_[0-9a-f]{16}");
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string uid = NewLocalUid();
    ASSERT_TRUE(std::regex_match(uid, shape)) << uid;
    ASSERT_TRUE(IsValidSpoolUid(uid));
    seen.insert(uid);
  }
  EXPECT_EQ(seen.size(), 1000u);
  // Its time is now, in UTC.
  EXPECT_EQ(NewLocalUid().substr(0, 4), FormatUtcNow("%Y"));
}

}  // namespace
}  // namespace vigil
