// The results database: runs and their measurements are recorded and listed, upload
// attempts move a measurement through its states, other connections (processes) see
// the writes, and files that are not ours (or too new) are refused by name.
#include "vantage/spool/results_db.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

namespace vigil {
namespace {

namespace fs = std::filesystem;

class ResultsDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/vigil_results_db_test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    root_ = pattern;
    path_ = root_ + "/state/results.sqlite3";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  std::unique_ptr<ResultsDb> OpenDb() {
    auto db = ResultsDb::Open(path_);
    EXPECT_TRUE(db.ok()) << db.error();
    return db.ok() ? std::move(*db) : nullptr;
  }

  // One value of a query run on a raw connection, as text ("" for none).
  std::string RawQuery(const std::string& sql) {
    sqlite3* raw = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path_.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    std::string out;
    sqlite3_exec(
        raw, sql.c_str(),
        [](void* o, int, char** values, char**) {
          *static_cast<std::string*>(o) = values[0] ? values[0] : "";
          return 0;
        },
        &out, nullptr);
    sqlite3_close(raw);
    return out;
  }

  static RunStart Start(const std::string& target) {
    return RunStart{"2026-12-03T11:22:33Z", target, "IT", "AS64496", "Example Telecom"};
  }

  static MeasurementRow Row(const std::string& uid, int64_t run_id) {
    MeasurementRow m;
    m.uid = uid;
    m.run_id = run_id;
    m.test_name = "whatsapp";
    m.start_time = "2026-12-03 11:22:34";
    m.probe_cc = "IT";
    m.probe_asn = "AS64496";
    m.verdict = "ok";
    m.spool_path = "/spool/pending/" + uid + ".json";
    return m;
  }

  static MeasurementFilter Filter(std::optional<int64_t> run_id,
                                  std::vector<UploadState> states = {}, size_t limit = 0) {
    MeasurementFilter f;
    f.run_id = run_id;
    f.upload_states = std::move(states);
    f.limit = limit;
    return f;
  }

  static UploadAttempt Attempt(const std::string& uid, bool ok, const std::string& at) {
    UploadAttempt a;
    a.uid = uid;
    a.ok = ok;
    a.at = at;
    return a;
  }

  std::string root_;
  std::string path_;
};

TEST_F(ResultsDbTest, CreatesThePrivateFileWithTheSchema) {
  auto db = OpenDb();
  ASSERT_TRUE(db);
  EXPECT_EQ(db->path(), path_);
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(RawQuery("PRAGMA user_version"), std::to_string(ResultsDb::kSchemaVersion));
  EXPECT_EQ(RawQuery("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(RawQuery("SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master "
                     "WHERE type = 'table' ORDER BY name)"),
            "measurements,runs");
  EXPECT_EQ(RawQuery("SELECT count(*) FROM pragma_table_info('measurements')"), "20");
  // The CHECK constraint holds the upload states to the four names.
  EXPECT_NE(RawQuery("INSERT INTO runs (started_at, target, probe_cc, probe_asn, network_name) "
                     "VALUES ('t', 'x', '', '', ''); "
                     "INSERT INTO measurements (uid, run_id, test_name, input, start_time, "
                     "probe_cc, probe_asn, verdict, blocking, anomaly, spool_path, upload_state) "
                     "VALUES ('bad', 1, '', '', '', '', '', '', '', 0, '', 'lost'); "
                     "SELECT count(*) FROM measurements"),
            "1");
  db.reset();
  // Reopening an existing database works and keeps it.
  auto again = OpenDb();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->ListRuns(0)->size(), 1u);
}

TEST_F(ResultsDbTest, RunLifecycle) {
  auto db = OpenDb();
  ASSERT_TRUE(db);
  auto run = db->BeginRun(Start("im"));
  ASSERT_TRUE(run.ok()) << run.error();

  auto listed = db->ListRuns(10);
  ASSERT_TRUE(listed.ok()) << listed.error();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].id, *run);
  EXPECT_EQ((*listed)[0].target, "im");
  EXPECT_EQ((*listed)[0].network_name, "Example Telecom");
  EXPECT_FALSE((*listed)[0].finished_at);

  MeasurementRow anomaly = Row("m2", *run);
  anomaly.test_name = "telegram";
  anomaly.verdict = "anomaly";
  anomaly.blocking = "tcp_ip";
  anomaly.anomaly = true;
  MeasurementRow failed = Row("m3", *run);
  failed.verdict = "failure";
  failed.failure = "generic_timeout_error";
  for (const auto& m : {Row("m1", *run), anomaly, failed}) {
    auto added = db->AddMeasurement(m);
    ASSERT_TRUE(added.ok()) << added.error();
  }
  // Counts are current before the run finishes (a crash leaves them right).
  auto running = db->GetRun(*run);
  ASSERT_TRUE(running.ok()) << running.error();
  ASSERT_TRUE(running->has_value());
  EXPECT_EQ((*running)->run.counts.measurements, 3);
  EXPECT_EQ((*running)->run.counts.anomalies, 1);
  EXPECT_EQ((*running)->run.counts.failures, 1);

  auto finished = db->FinishRun(*run, "2026-12-03T11:25:00Z", RunCounts{3, 1, 1});
  ASSERT_TRUE(finished.ok()) << finished.error();
  auto got = db->GetRun(*run);
  ASSERT_TRUE(got.ok() && got->has_value()) << got.error();
  const RunWithMeasurements& r = **got;
  EXPECT_EQ(r.run.finished_at, "2026-12-03T11:25:00Z");
  EXPECT_EQ(r.run.started_at, "2026-12-03T11:22:33Z");
  ASSERT_EQ(r.measurements.size(), 3u);
  EXPECT_EQ(r.measurements[0].uid, "m1");
  EXPECT_EQ(r.measurements[1].uid, "m2");
  EXPECT_EQ(r.measurements[1].blocking, "tcp_ip");
  EXPECT_TRUE(r.measurements[1].anomaly);
  EXPECT_FALSE(r.measurements[1].failure);
  EXPECT_EQ(r.measurements[2].failure, "generic_timeout_error");

  auto second = db->BeginRun(Start("signal"));
  ASSERT_TRUE(second.ok()) << second.error();
  EXPECT_GT(*second, *run);
  auto newest = db->ListRuns(1);
  ASSERT_EQ(newest->size(), 1u);
  EXPECT_EQ((*newest)[0].target, "signal");
  EXPECT_EQ(db->ListRuns(0)->size(), 2u);

  auto none = db->GetRun(12345);
  ASSERT_TRUE(none.ok()) << none.error();
  EXPECT_FALSE(none->has_value());
  auto no_run = db->FinishRun(12345, "2026-12-03T11:25:00Z", {});
  ASSERT_FALSE(no_run.ok());
  EXPECT_NE(no_run.error().find("no such run"), std::string::npos) << no_run.error();
}

TEST_F(ResultsDbTest, MeasurementRowsRoundTripAndFilter) {
  auto db = OpenDb();
  ASSERT_TRUE(db);
  const int64_t a = *db->BeginRun(Start("im"));
  const int64_t b = *db->BeginRun(Start("web_connectivity"));
  MeasurementRow full = Row("a1", a);
  full.input = "https://web.whatsapp.com/";
  full.upload_state = UploadState::kDisabled;
  full.failure = "";  // present but empty is not NULL
  ASSERT_TRUE(db->AddMeasurement(full).ok());
  ASSERT_TRUE(db->AddMeasurement(Row("a2", a)).ok());
  ASSERT_TRUE(db->AddMeasurement(Row("b1", b)).ok());
  ASSERT_TRUE(db->AddMeasurement(Row("b2", b)).ok());

  auto one = db->GetMeasurement("a1");
  ASSERT_TRUE(one.ok() && one->has_value()) << one.error();
  const MeasurementRow& m = **one;
  EXPECT_EQ(m.run_id, a);
  EXPECT_EQ(m.input, "https://web.whatsapp.com/");
  EXPECT_EQ(m.start_time, "2026-12-03 11:22:34");
  EXPECT_EQ(m.spool_path, "/spool/pending/a1.json");
  EXPECT_EQ(m.upload_state, UploadState::kDisabled);
  EXPECT_EQ(m.failure, "");
  EXPECT_EQ(m.upload_attempts, 0);
  EXPECT_FALSE(m.last_attempt_at);
  EXPECT_FALSE(m.report_id);
  EXPECT_FALSE(db->GetMeasurement("zz")->has_value());

  auto uids = [&](const MeasurementFilter& f) {
    std::vector<std::string> out;
    auto rows = db->ListMeasurements(f);
    EXPECT_TRUE(rows.ok()) << rows.error();
    if (rows.ok()) {
      for (const auto& row : *rows) out.push_back(row.uid);
    }
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(uids({}), (V{"a1", "a2", "b1", "b2"}));
  EXPECT_EQ(uids(Filter(b)), (V{"b1", "b2"}));
  EXPECT_EQ(uids(Filter(std::nullopt, {UploadState::kPending})), (V{"a2", "b1", "b2"}));
  EXPECT_EQ(uids(Filter(std::nullopt, {UploadState::kDisabled, UploadState::kFailed})), (V{"a1"}));
  EXPECT_EQ(uids(Filter(a, {UploadState::kPending})), (V{"a2"}));
  EXPECT_EQ(uids(Filter(std::nullopt, {}, 3)), (V{"a1", "a2", "b1"}));
  EXPECT_EQ(uids(Filter(std::nullopt, {UploadState::kPending}, 1)), (V{"a2"}));

  // Adding a uid again (a retry) neither duplicates nor recounts it.
  MeasurementRow changed = Row("a2", a);
  changed.verdict = "anomaly";
  changed.anomaly = true;
  ASSERT_TRUE(db->AddMeasurement(changed).ok());
  EXPECT_EQ((*db->GetMeasurement("a2"))->verdict, "ok");
  EXPECT_EQ((*db->GetRun(a))->run.counts.measurements, 2);
  EXPECT_EQ((*db->GetRun(a))->run.counts.anomalies, 0);

  // A measurement of no run is refused with SQLite's reason.
  auto orphan = db->AddMeasurement(Row("x", 999));
  ASSERT_FALSE(orphan.ok());
  EXPECT_NE(orphan.error().find("FOREIGN KEY"), std::string::npos) << orphan.error();
  EXPECT_NE(orphan.error().find(path_), std::string::npos) << orphan.error();
  EXPECT_FALSE(db->GetMeasurement("x")->has_value());
}

TEST_F(ResultsDbTest, UploadAttemptsMoveTheState) {
  auto db = OpenDb();
  ASSERT_TRUE(db);
  const int64_t run = *db->BeginRun(Start("im"));
  ASSERT_TRUE(db->AddMeasurement(Row("m1", run)).ok());
  ASSERT_TRUE(db->AddMeasurement(Row("m2", run)).ok());

  UploadAttempt fail = Attempt("m1", false, "2026-12-03T12:00:00Z");
  fail.collector = "https://collector.example";
  fail.error = "connection_refused";
  ASSERT_TRUE(db->RecordUploadAttempt(fail).ok());
  auto m = *db->GetMeasurement("m1");
  EXPECT_EQ(m->upload_state, UploadState::kFailed);
  EXPECT_EQ(m->upload_attempts, 1);
  EXPECT_EQ(m->upload_error, "connection_refused");
  EXPECT_EQ(m->last_attempt_at, "2026-12-03T12:00:00Z");
  EXPECT_FALSE(m->uploaded_at);

  UploadAttempt ok = Attempt("m1", true, "2026-12-03T12:05:00Z");
  ok.collector = "https://collector.example";
  ok.report_id = "20261203T120500Z_im_IT_64496_n1_x";
  ok.measurement_uid = "20261203120500.123456_IT_whatsapp_abc";
  ASSERT_TRUE(db->RecordUploadAttempt(ok).ok());
  m = *db->GetMeasurement("m1");
  EXPECT_EQ(m->upload_state, UploadState::kUploaded);
  EXPECT_EQ(m->upload_attempts, 2);
  EXPECT_FALSE(m->upload_error);
  EXPECT_EQ(m->collector, "https://collector.example");
  EXPECT_EQ(m->report_id, "20261203T120500Z_im_IT_64496_n1_x");
  EXPECT_EQ(m->measurement_uid, "20261203120500.123456_IT_whatsapp_abc");
  EXPECT_EQ(m->uploaded_at, "2026-12-03T12:05:00Z");

  // A later failed try (another uploader) does not undo the upload.
  fail.at = "2026-12-03T12:10:00Z";
  ASSERT_TRUE(db->RecordUploadAttempt(fail).ok());
  m = *db->GetMeasurement("m1");
  EXPECT_EQ(m->upload_state, UploadState::kUploaded);
  EXPECT_EQ(m->upload_attempts, 3);
  EXPECT_FALSE(m->upload_error);
  EXPECT_EQ(m->report_id, "20261203T120500Z_im_IT_64496_n1_x");

  auto unknown = db->RecordUploadAttempt(Attempt("nope", true, "t"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().find("nope"), std::string::npos) << unknown.error();

  auto counts = db->CountByUploadState();
  ASSERT_TRUE(counts.ok()) << counts.error();
  EXPECT_EQ((*counts)[UploadState::kUploaded], 1);
  EXPECT_EQ((*counts)[UploadState::kPending], 1);
  EXPECT_EQ((*counts)[UploadState::kFailed], 0);
  EXPECT_EQ(counts->size(), 4u);
  EXPECT_EQ((*db->ListMeasurements(
                Filter(std::nullopt, {UploadState::kPending, UploadState::kFailed})))[0]
                .uid,
            "m2");
}

TEST_F(ResultsDbTest, AnotherConnectionSeesTheWrites) {
  auto runner = OpenDb();
  auto uploader = OpenDb();  // as `vigil upload` would, in its own process
  ASSERT_TRUE(runner && uploader);
  const int64_t run = *runner->BeginRun(Start("im"));
  ASSERT_TRUE(runner->AddMeasurement(Row("m1", run)).ok());
  auto seen = uploader->ListMeasurements(Filter(std::nullopt, {UploadState::kPending}));
  ASSERT_TRUE(seen.ok()) << seen.error();
  ASSERT_EQ(seen->size(), 1u);
  ASSERT_TRUE(uploader->RecordUploadAttempt(Attempt("m1", true, "t")).ok());
  EXPECT_EQ((*runner->GetMeasurement("m1"))->upload_state, UploadState::kUploaded);

  // Both write at once, from two threads with a connection each: the busy timeout
  // makes one wait for the other's write lock instead of failing.
  constexpr int kEach = 100;
  std::string errors[2];
  std::thread a([&] {
    for (int i = 0; i < kEach; ++i) {
      if (auto r = runner->AddMeasurement(Row("a" + std::to_string(i), run)); !r)
        errors[0] = r.error();
    }
  });
  std::thread b([&] {
    for (int i = 0; i < kEach; ++i) {
      if (auto r = uploader->AddMeasurement(Row("b" + std::to_string(i), run)); !r)
        errors[1] = r.error();
    }
  });
  a.join();
  b.join();
  EXPECT_EQ(errors[0], "");
  EXPECT_EQ(errors[1], "");
  EXPECT_EQ((*runner->GetRun(run))->measurements.size(), 1u + 2 * kEach);
  EXPECT_EQ((*uploader->GetRun(run))->run.counts.measurements, 1 + 2 * kEach);
}

TEST_F(ResultsDbTest, OneObjectIsSafeAcrossThreads) {
  auto db = OpenDb();
  ASSERT_TRUE(db);
  const int64_t run = *db->BeginRun(Start("im"));
  std::vector<std::thread> threads;
  std::vector<std::string> errors(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        const std::string uid = std::to_string(t) + "_" + std::to_string(i);
        if (auto r = db->AddMeasurement(Row(uid, run)); !r) errors[t] = r.error();
        if (auto r = db->GetMeasurement(uid); !r.ok() || !r->has_value()) errors[t] = "lost " + uid;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& e : errors) EXPECT_EQ(e, "");
  EXPECT_EQ(db->CountByUploadState()->at(UploadState::kPending), 200);
}

TEST_F(ResultsDbTest, NonSqliteFileIsRefusedByName) {
  fs::create_directories(root_ + "/state");
  const std::string before = "this is a config file, not a database\n";
  std::ofstream(path_) << before << std::string(4096, 'x');
  auto db = ResultsDb::Open(path_);
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.error().find(path_), std::string::npos) << db.error();
  EXPECT_NE(db.error().find("not a database"), std::string::npos) << db.error();

  auto dir = ResultsDb::Open(root_);
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.error().find(root_), std::string::npos) << dir.error();
}

TEST_F(ResultsDbTest, AnotherProgramsSqliteFileIsRefused) {
  fs::create_directories(root_ + "/state");
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(raw, "CREATE TABLE t (x); PRAGMA user_version = 1", nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(raw);
  auto db = ResultsDb::Open(path_);
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.error().find("not a vigil results database"), std::string::npos) << db.error();
  EXPECT_NE(db.error().find(path_), std::string::npos) << db.error();
  EXPECT_EQ(RawQuery("SELECT count(*) FROM sqlite_master"), "1");  // untouched
}

TEST_F(ResultsDbTest, NewerSchemaIsRefused) {
  {
    auto db = OpenDb();
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->BeginRun(Start("im")).ok());
  }
  RawQuery("PRAGMA user_version = " + std::to_string(ResultsDb::kSchemaVersion + 1));
  auto db = ResultsDb::Open(path_);
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.error().find(path_), std::string::npos) << db.error();
  EXPECT_NE(db.error().find("newer than this vigil supports"), std::string::npos) << db.error();
  EXPECT_EQ(RawQuery("PRAGMA user_version"), std::to_string(ResultsDb::kSchemaVersion + 1));
}

TEST(FormatUtcTime, IsIso8601InUtc) {
  EXPECT_EQ(FormatUtcTime(std::chrono::system_clock::from_time_t(1796297553)),
            "2026-12-03T11:32:33Z");
  EXPECT_EQ(ParseUploadState("uploaded"), UploadState::kUploaded);
  EXPECT_EQ(UploadStateName(UploadState::kDisabled), "disabled");
  EXPECT_FALSE(ParseUploadState("lost"));
}

}  // namespace
}  // namespace vigil
