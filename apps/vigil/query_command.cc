// `vigil query`: OONI-style aggregation over the analyzer's store. Filters narrow the
// measurements (test, country, network, target, input, category, blocking type, a
// window with a bounded default), up to three axes split them into cells (time at an
// hour/day/week/month grain, cc, asn, target, input, category, test, blocking_type), and
// each cell carries counts that do not overlap plus distinct probes and networks.
// `vigil query measurements` lists the measurements behind a cell, with their uid and
// where they were read from. --format table|csv|json.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/model/outcome.h"
#include "analysis/store/store.h"
#include "apps/vigil/commands.h"
#include "apps/vigil/exit_status.h"
#include "base/csv.h"

namespace vigil::cli {

namespace {

using analysis::AggregationCell;
using analysis::Axis;

struct QueryFlags {
  std::string store;
  std::string axes;
  std::string grain;
  std::string test;
  std::string cc;
  std::string asn;
  std::string target;
  std::string input;
  std::string category;
  std::string blocking_type;
  bool blocking_type_given = false;
  std::string since;
  std::string until;
  std::string rules_version;
  std::string format = "table";
  // measurements
  std::string outcome;
  size_t limit = 100;
};

constexpr const char* kCommand = "query";

Result<analysis::AggregationQuery> BuildQuery(const QueryFlags& f, bool with_axes) {
  analysis::AggregationQuery q;
  if (with_axes && !f.axes.empty()) {
    auto axes = analysis::ParseAxes(f.axes);
    if (!axes.ok()) return Error{"--axis: " + axes.error()};
    q.axes = *axes;
  }
  if (with_axes && !f.grain.empty()) {
    auto grain = analysis::ParseGrain(f.grain);
    if (!grain.ok()) return Error{"--grain: " + grain.error()};
    q.grain = *grain;
  }
  q.test_name = f.test;
  if (!f.cc.empty()) {
    auto cc = analysis::ParseCountry(f.cc);
    if (!cc.ok()) return Error{"--cc: " + cc.error()};
    q.probe_cc = *cc;
  }
  if (!f.asn.empty()) {
    auto asn = analysis::ParseAsn(f.asn);
    if (!asn.ok()) return Error{"--asn: " + asn.error()};
    q.probe_asn = *asn;
  }
  q.target = f.target;
  q.input = f.input;
  q.category_code = f.category;
  if (f.blocking_type_given) q.blocking_type = f.blocking_type;
  if (!f.since.empty()) {
    auto t = analysis::ParseTime(f.since);
    if (!t.ok()) return Error{"--since: " + t.error()};
    q.since = *t;
  }
  if (!f.until.empty()) {
    auto t = analysis::ParseTime(f.until);
    if (!t.ok()) return Error{"--until: " + t.error()};
    q.until = *t;
  }
  q.rules_version = f.rules_version;
  return q;
}

// Prints rows of text as an aligned table, CSV, or (with `numeric` marking columns that
// are numbers) JSON objects.
void PrintRows(const std::string& format, const std::vector<std::string>& header,
               const std::vector<std::vector<std::string>>& rows, const std::vector<bool>& numeric,
               const nlohmann::json& meta) {
  if (format == "csv") {
    for (size_t i = 0; i < header.size(); ++i) std::printf("%s%s", i ? "," : "", header[i].c_str());
    std::printf("\n");
    for (const auto& row : rows) {
      for (size_t i = 0; i < row.size(); ++i) {
        std::printf("%s%s", i ? "," : "", CsvField(row[i]).c_str());
      }
      std::printf("\n");
    }
    return;
  }
  if (format == "json") {
    nlohmann::json out = meta;
    out["result"] = nlohmann::json::array();
    for (const auto& row : rows) {
      nlohmann::json o = nlohmann::json::object();
      for (size_t i = 0; i < row.size(); ++i) {
        if (numeric[i]) {
          o[header[i]] = std::stoll(row[i]);
        } else {
          o[header[i]] = row[i];
        }
      }
      out["result"].push_back(std::move(o));
    }
    std::printf("%s\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return;
  }
  std::vector<size_t> width(header.size());
  for (size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t i = 0; i < cells.size(); ++i) {
      const std::string& c = cells[i];
      const std::string pad(width[i] - c.size(), ' ');
      out += numeric[i] ? pad + c : c + pad;
      if (i + 1 < cells.size()) out += "  ";
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    std::printf("%s\n", out.c_str());
  };
  line(header);
  for (const auto& row : rows) line(row);
}

nlohmann::json QueryMeta(const analysis::ResolvedQuery& r, const std::string& store) {
  nlohmann::json meta;
  meta["store"] = store;
  meta["since"] = analysis::FormatTime(r.since);
  meta["until"] = analysis::FormatTime(r.until);
  meta["rules_version"] = r.rules_version;
  nlohmann::json axes = nlohmann::json::array();
  for (Axis a : r.query.axes) axes.push_back(analysis::AxisName(a));
  meta["axes"] = axes;
  if (std::find(r.query.axes.begin(), r.query.axes.end(), Axis::kTime) != r.query.axes.end()) {
    meta["grain"] = analysis::GrainName(r.grain);
  }
  return meta;
}

std::string WindowLine(const analysis::ResolvedQuery& r) {
  std::string line = analysis::FormatTime(r.since, true) + " .. " +
                     analysis::FormatTime(r.until, true) + " (UTC, until exclusive)";
  if (!r.query.since && !r.query.until) {
    line +=
        ", the default: 30 days up to the newest matching measurement (--since/--until widen it)";
  }
  return line + "; rules " + r.rules_version;
}

Result<std::unique_ptr<analysis::Store>> Open(const QueryFlags& f) {
  return OpenExistingStore(f.store);
}

bool CheckFormat(const std::string& format) {
  return format == "table" || format == "csv" || format == "json";
}

int RunQuery(const QueryFlags& f) {
  if (!CheckFormat(f.format))
    return Fail(kCommand, "--format: '" + f.format + "' (table, csv, json)");
  auto query = BuildQuery(f, true);
  if (!query.ok()) return Fail(kCommand, query.error());
  auto store = Open(f);
  if (!store.ok()) return Fail(kCommand, store.error(), kExitFailed);
  auto result = analysis::Aggregate(**store, *query);
  if (!result.ok()) return Fail(kCommand, result.error(), kExitFailed);

  std::vector<std::string> header;
  std::vector<bool> numeric;
  for (Axis a : result->query.query.axes) {
    header.push_back(analysis::AxisColumn(a));
    numeric.push_back(a == Axis::kAsn);
  }
  for (const char* c : {"measurement_count", "ok_count", "anomaly_count", "confirmed_count",
                        "failure_count", "probe_count", "network_count"}) {
    header.push_back(c);
    numeric.push_back(true);
  }
  std::vector<std::vector<std::string>> rows;
  uint64_t total = 0;
  for (const AggregationCell& c : result->cells) {
    std::vector<std::string> row;
    for (Axis a : result->query.query.axes) {
      row.push_back(analysis::AxisValue(c, a, result->query.grain));
    }
    for (uint64_t n : {c.measurement_count, c.ok_count, c.anomaly_count, c.confirmed_count,
                       c.failure_count, c.probe_count, c.network_count}) {
      row.push_back(std::to_string(n));
    }
    total += c.measurement_count;
    rows.push_back(std::move(row));
  }
  PrintRows(f.format, header, rows, numeric, QueryMeta(result->query, (*store)->Describe()));
  std::fprintf(stderr, "vigil query: %llu measurements in %zu cells; %s\n",
               static_cast<unsigned long long>(total), result->cells.size(),
               WindowLine(result->query).c_str());
  return 0;
}

int RunMeasurements(const QueryFlags& f) {
  if (!CheckFormat(f.format))
    return Fail(kCommand, "--format: '" + f.format + "' (table, csv, json)");
  if (!f.axes.empty() || !f.grain.empty()) {
    return Fail(
        kCommand,
        "measurements takes filters, not --axis or --grain (narrow --since/--until to a cell)");
  }
  auto query = BuildQuery(f, false);
  if (!query.ok()) return Fail(kCommand, query.error());
  std::optional<analysis::Outcome> outcome;
  if (!f.outcome.empty()) {
    auto o = analysis::ParseOutcome(f.outcome);
    if (!o.ok()) return Fail(kCommand, "--outcome: " + o.error());
    outcome = *o;
  }
  auto store = Open(f);
  if (!store.ok()) return Fail(kCommand, store.error(), kExitFailed);
  analysis::ResolvedQuery resolved;
  auto listed = analysis::ListMeasurements(**store, *query, outcome, f.limit, &resolved);
  if (!listed.ok()) return Fail(kCommand, listed.error(), kExitFailed);
  const std::vector<std::string> header = {"measurement_uid", "start_time", "probe_cc", "probe_asn",
                                           "test_name",       "input",      "outcome",  "verdict",
                                           "blocking_type",   "source"};
  const std::vector<bool> numeric = {false, false, false, true,  false,
                                     false, false, false, false, false};
  std::vector<std::vector<std::string>> rows;
  for (const auto& m : *listed) {
    const auto o = analysis::OutcomeOf(m.anomaly, m.confirmed, m.failure);
    rows.push_back({m.measurement_uid, analysis::FormatTime(m.start_time), m.probe_cc,
                    std::to_string(m.probe_asn), m.test_name, m.input.empty() ? m.target : m.input,
                    analysis::OutcomeName(o), m.verdict.empty() ? "-" : m.verdict, m.blocking_type,
                    m.source_file + ":" + std::to_string(m.source_line)});
  }
  PrintRows(f.format, header, rows, numeric, QueryMeta(resolved, (*store)->Describe()));
  std::fprintf(stderr, "vigil query measurements: %zu listed%s; %s\n", listed->size(),
               listed->size() == f.limit ? " (the --limit; there may be more)" : "",
               WindowLine(resolved).c_str());
  return 0;
}

}  // namespace

Result<std::unique_ptr<analysis::Store>> OpenExistingStore(const std::string& given) {
  const std::string spec = given.empty() ? analysis::DefaultStoreSpec() : given;
  if (spec.find("://") == std::string::npos) {
    // A query never creates an empty SQLite file where the user mistyped a path.
    std::string path = spec.rfind("sqlite:", 0) == 0 ? spec.substr(7) : spec;
    if (FILE* file = std::fopen(path.c_str(), "rb")) {
      std::fclose(file);
    } else {
      return Error{"no store at " + path + " (run `vigil analyze PATH...` first, or give --store)"};
    }
  }
  return analysis::OpenStore(spec);
}

void AddQueryCommand(CLI::App& app) {
  auto flags = std::make_shared<QueryFlags>();
  CLI::App* cmd = app.add_subcommand(
      "query", "Aggregate verdicts in the analysis store (OONI's aggregation semantics)");
  cmd->add_option("--store", flags->store,
                  "SQLite file, sqlite:PATH or clickhouse://HOST:PORT/DB (default: "
                  "$VIGIL_STORE or $XDG_DATA_HOME/vigil/analysis.sqlite)");
  cmd->add_option("--axis", flags->axes,
                  "Up to three of time, cc, asn, target, input, category, test, blocking_type "
                  "(comma-separated)");
  cmd->add_option("--grain", flags->grain,
                  "Time axis grain: hour (window <= 7 days), day, week (<= 365 days), month");
  cmd->add_option("--test", flags->test, "Test name (whatsapp, web_connectivity, ...)");
  cmd->add_option("--cc", flags->cc, "Probe country (two letters)");
  cmd->add_option("--asn", flags->asn, "Probe network (AS197207 or 197207)");
  cmd->add_option("--target,--domain", flags->target,
                  "Domain for web tests, service for messaging tests (whatsapp, telegram, ...)");
  cmd->add_option("--input", flags->input, "Exact input (URL or endpoint)");
  cmd->add_option("--category", flags->category, "Citizen Lab category code (e.g. COMT)");
  cmd->add_option("--blocking-type", flags->blocking_type,
                  "dns, tcp_ip, tls, http-failure, http-diff, delivery; '' for none")
      ->each([flags](const std::string&) { flags->blocking_type_given = true; });
  cmd->add_option("--since", flags->since, "Window start, UTC: YYYY-MM-DD[THH:MM:SSZ] (inclusive)");
  cmd->add_option("--until", flags->until,
                  "Window end (exclusive); default: the end of the day of the newest "
                  "matching measurement, 30 days after --since or before --until");
  cmd->add_option("--rules-version", flags->rules_version,
                  "Verdicts of this rules version (default: the newest in the store)");
  cmd->add_option("--format", flags->format, "table, csv or json")->capture_default_str();

  CLI::App* list = cmd->add_subcommand(
      "measurements", "List the measurements behind a cell (the same filters), with their uid");
  list->fallthrough();
  list->add_option("--outcome", flags->outcome, "Only this outcome: " + analysis::OutcomeNames());
  list->add_option("--limit", flags->limit, "At most this many, newest first")
      ->capture_default_str();
  list->callback([flags] { SetExitCode(RunMeasurements(*flags)); });
  cmd->callback([flags, list] {
    if (list->parsed()) return;
    SetExitCode(RunQuery(*flags));
  });
}

}  // namespace vigil::cli
