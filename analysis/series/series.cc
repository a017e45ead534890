// BuildSeries: one narrow scan of the verdicts table (no measurements, no JSON), laid on
// the grid in memory. Counts per cell are exact except `probes`, which is a linear-
// counting estimate over 128 bits (exact for a few reports, within a few percent up to
// about a hundred; OONI publishes no probe id, so a report stands for a probe's run).
#include "analysis/series/series.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "analysis/model/verdict_class.h"
#include "analysis/query/aggregation.h"
#include "analysis/store/store.h"

namespace vigil::analysis {
namespace {

constexpr int64_t kBurstPerMinute = 200;
constexpr int64_t kSkewSeconds = 3600;

// The default window, by grain, ending with the newest measurement.
int64_t DefaultSpan(SeriesGrain grain) {
  switch (grain) {
    case SeriesGrain::kMinute:
      return 86400;
    case SeriesGrain::kHour:
      return 14 * 86400;
    case SeriesGrain::kDay:
      return 180 * 86400;
    case SeriesGrain::kWeek:
      return 3 * 365 * 86400;
  }
  return 180 * 86400;
}

uint64_t Hash(std::string_view s) { return std::hash<std::string_view>{}(s); }

}  // namespace

struct SeriesBuilder::State {
  SeriesQuery query;
  int64_t step = 0;
  size_t cells = 0;
  std::string error;
  uint64_t rows = 0;

  // One group per (cc, asn, target): its series per layer (null until the layer is seen
  // measured, or when the query leaves it out), and 128 bits per cell for `probes`.
  struct Group {
    SeriesKey key;
    std::array<std::unique_ptr<std::vector<SeriesCell>>, kSeriesLayerCount> layers;
    std::vector<std::array<uint64_t, 2>> report_bits;
  };
  std::vector<Group> groups;
  std::unordered_map<std::string, uint32_t> group_index;
  std::string key_buffer;
  size_t allocated_cells = 0;

  // Burst detection: per source (cc, asn, software) and hour, a count per minute.
  std::unordered_map<std::string, uint32_t> sources;               // "cc asn software" -> id
  std::vector<std::pair<std::string, uint32_t>> source_networks;   // id -> (cc, asn)
  std::unordered_map<uint64_t, std::array<uint16_t, 60>> minutes;  // (id, hour) -> counts

  bool wanted[kSeriesLayerCount] = {};
  bool all_layers = false;

  std::vector<SeriesCell>* Layer(Group& g, size_t layer) {
    if (!g.layers[layer]) {
      if (!wanted[layer] && !all_layers) return nullptr;
      if (allocated_cells + cells > query.max_cells) {
        if (error.empty()) {
          error = "the series would hold more than " + std::to_string(query.max_cells) +
                  " cells: narrow the window, use a coarser grain or filter by country, "
                  "network or target";
        }
        return nullptr;
      }
      allocated_cells += cells;
      g.layers[layer] = std::make_unique<std::vector<SeriesCell>>(cells);
    }
    return g.layers[layer].get();
  }
};

SeriesBuilder::SeriesBuilder(SeriesQuery query) : state_(new State) {
  State& s = *state_;
  s.step = GrainSeconds(query.grain);
  query.since = CellStart(query.since, query.grain);
  query.until = std::max(query.since, CellStart(query.until + s.step - 1, query.grain));
  s.cells = static_cast<size_t>((query.until - query.since) / s.step);
  if (query.layers.empty()) {
    s.all_layers = true;
  } else {
    for (SeriesLayer l : query.layers) s.wanted[static_cast<size_t>(l)] = true;
  }
  s.wanted[static_cast<size_t>(SeriesLayer::kAny)] = true;  // carries the shared counts
  if (s.cells > query.max_cells) {
    s.error = "the window has " + std::to_string(s.cells) + " " + SeriesGrainName(query.grain) +
              " cells, more than " + std::to_string(query.max_cells) +
              ": narrow it or use a coarser grain";
  }
  s.query = std::move(query);
}

SeriesBuilder::~SeriesBuilder() { delete state_; }

void SeriesBuilder::Add(const SeriesRow& row) {
  State& s = *state_;
  if (!s.error.empty()) return;
  const SeriesQuery& q = s.query;
  if (row.start_time < q.since || row.start_time >= q.until) return;
  if (!q.probe_cc.empty() && row.probe_cc != q.probe_cc) return;
  if (!q.probe_asns.empty() &&
      std::find(q.probe_asns.begin(), q.probe_asns.end(), row.probe_asn) == q.probe_asns.end()) {
    return;
  }
  if (!q.targets.empty() &&
      std::find(q.targets.begin(), q.targets.end(), row.target) == q.targets.end()) {
    return;
  }
  ++s.rows;

  // The group.
  s.key_buffer.assign(row.probe_cc);
  s.key_buffer += '\t';
  s.key_buffer += std::to_string(row.probe_asn);
  s.key_buffer += '\t';
  s.key_buffer += row.target;
  auto [it, added] =
      s.group_index.try_emplace(s.key_buffer, static_cast<uint32_t>(s.groups.size()));
  if (added) {
    State::Group g;
    g.key = SeriesKey{std::string(row.probe_cc), row.probe_asn, std::string(row.target),
                      SeriesLayer::kAny};
    g.report_bits.resize(s.cells);
    s.groups.push_back(std::move(g));
  }
  State::Group& g = s.groups[it->second];
  const size_t cell = static_cast<size_t>((row.start_time - q.since) / s.step);

  const auto verdict = static_cast<VerdictClass>(row.verdict);
  const bool judged = verdict == VerdictClass::kOk || verdict == VerdictClass::kBlocked ||
                      verdict == VerdictClass::kAnomaly;
  uint8_t flags = 0;
  if (row.upload_time > 0 && std::llabs(row.start_time - row.upload_time) > kSkewSeconds) {
    flags |= kCellClockSkew;
  }

  // Whole measurement: the kAny series holds what every layer shares.
  auto* any = s.Layer(g, static_cast<size_t>(SeriesLayer::kAny));
  if (any == nullptr) return;
  SeriesCell& a = (*any)[cell];
  ++a.measurements;
  a.flags |= flags;
  switch (verdict) {
    case VerdictClass::kOk:
      ++a.usable;
      break;
    case VerdictClass::kBlocked:
      ++a.usable;
      ++a.blocked;
      break;
    case VerdictClass::kAnomaly:
      ++a.usable;
      ++a.anomaly;
      break;
    case VerdictClass::kDown:
      ++a.down;
      break;
    case VerdictClass::kNoNetwork:
      ++a.no_network;
      break;
    case VerdictClass::kError:
      ++a.error;
      break;
  }
  const uint64_t h = Hash(row.report_id);
  g.report_bits[cell][(h >> 6) & 1] |= uint64_t{1} << (h & 63);

  // Per layer: only what says something there.
  for (size_t l = 0; l < kSeriesLayerCount - 1; ++l) {
    const uint8_t bit = static_cast<uint8_t>(1u << l);
    if (!(row.measured_layers & bit)) continue;
    auto* cells = s.Layer(g, l);
    if (cells == nullptr) {
      if (!s.error.empty()) return;
      continue;
    }
    SeriesCell& c = (*cells)[cell];
    if (row.masked_layers & bit) {
      ++c.masked;
    } else if (judged) {
      ++c.usable;
      if (row.blocked_layers & bit) {
        ++c.blocked;
      } else if (verdict == VerdictClass::kAnomaly) {
        ++c.anomaly;
      }
    }
  }

  // Bursts: counts per source and minute.
  s.key_buffer.assign(row.probe_cc);
  s.key_buffer += '\t';
  s.key_buffer += std::to_string(row.probe_asn);
  s.key_buffer += '\t';
  s.key_buffer += row.software_name;
  auto [src, new_source] =
      s.sources.try_emplace(s.key_buffer, static_cast<uint32_t>(s.source_networks.size()));
  if (new_source) s.source_networks.emplace_back(std::string(row.probe_cc), row.probe_asn);
  const int64_t minute = row.start_time / 60 - (row.start_time % 60 < 0);
  const int64_t hour = minute / 60 - (minute % 60 < 0);
  auto& counts = s.minutes[(static_cast<uint64_t>(src->second) << 40) ^
                           static_cast<uint64_t>(hour & ((int64_t{1} << 40) - 1))];
  uint16_t& n = counts[static_cast<size_t>(minute - hour * 60)];
  if (n < UINT16_MAX) ++n;
}

Result<SeriesSet> SeriesBuilder::Finish() {
  State& s = *state_;
  if (!s.error.empty()) return Error{s.error};
  SeriesSet out;
  out.query = s.query;
  out.rows_read = s.rows;

  // Burst minutes flag the cells of every series of the source's network.
  std::map<std::pair<std::string, uint32_t>, std::vector<size_t>> groups_of_network;
  for (size_t i = 0; i < s.groups.size(); ++i) {
    groups_of_network[{s.groups[i].key.probe_cc, s.groups[i].key.probe_asn}].push_back(i);
  }
  for (const auto& [key, counts] : s.minutes) {
    const uint32_t source = static_cast<uint32_t>(key >> 40);
    int64_t hour = static_cast<int64_t>(key & ((uint64_t{1} << 40) - 1));
    if (hour >= (int64_t{1} << 39)) hour -= int64_t{1} << 40;  // negative times
    for (size_t m = 0; m < 60; ++m) {
      if (counts[m] < kBurstPerMinute) continue;
      const int64_t t = (hour * 60 + static_cast<int64_t>(m)) * 60;
      if (t < s.query.since || t >= s.query.until) continue;
      const size_t cell = static_cast<size_t>((t - s.query.since) / s.step);
      auto it = groups_of_network.find(s.source_networks[source]);
      if (it == groups_of_network.end()) continue;
      for (size_t gi : it->second) {
        for (auto& layer : s.groups[gi].layers) {
          if (layer) (*layer)[cell].flags |= kCellBurst;
        }
      }
    }
  }

  for (State::Group& g : s.groups) {
    const auto& any = *g.layers[static_cast<size_t>(SeriesLayer::kAny)];
    for (size_t l = 0; l < kSeriesLayerCount; ++l) {
      if (!g.layers[l]) continue;
      if (!s.all_layers && !s.wanted[l]) continue;
      auto& cells = *g.layers[l];
      for (size_t i = 0; i < cells.size(); ++i) {
        const auto& bits = g.report_bits[i];
        const int zeros = 128 - std::popcount(bits[0]) - std::popcount(bits[1]);
        uint32_t probes = 0;
        if (any[i].measurements > 0) {
          probes = zeros == 0 ? any[i].measurements
                              : static_cast<uint32_t>(std::lround(128 * std::log(128.0 / zeros)));
          probes = std::clamp<uint32_t>(probes, 1, any[i].measurements);
        }
        SeriesCell& c = cells[i];
        c.probes = probes;
        if (l != static_cast<size_t>(SeriesLayer::kAny)) {
          c.measurements = any[i].measurements;
          c.down = any[i].down;
          c.no_network = any[i].no_network;
          c.error = any[i].error;
          c.flags |= any[i].flags;
        }
      }
      Series series;
      series.key = g.key;
      series.key.layer = static_cast<SeriesLayer>(l);
      series.grain = s.query.grain;
      series.since = s.query.since;
      series.cells = std::move(cells);
      out.series.push_back(std::move(series));
    }
  }
  std::sort(out.series.begin(), out.series.end(),
            [](const Series& a, const Series& b) { return a.key < b.key; });
  return out;
}

Result<SeriesSet> BuildSeries(Store& store, const SeriesQuery& query_in) {
  SeriesQuery query = query_in;
  const SqlDialect d = store.dialect();
  auto version = RulesVersionOrNewest(store, query.rules_version);
  if (!version.ok()) return Error{version.error()};
  query.rules_version = *version;
  std::string where = " WHERE rules_version = " + QuoteSql(d, query.rules_version);
  if (query.until == 0 || query.since == 0) {
    int64_t newest = 0;
    bool any = false;
    auto r = store.Select("SELECT max(start_time), count(*) > 0 FROM verdicts" + where,
                          [&](const SqlRow& row) {
                            if (!row.null[0]) newest = std::stoll(row.values[0]);
                            any = row.values[1] == "1" || row.values[1] == "true";
                          });
    if (!r.ok()) return Error{r.error()};
    if (query.until == 0) query.until = any ? newest + 1 : 1;
    if (query.since == 0) query.since = query.until - DefaultSpan(query.grain);
  }
  if (query.since >= query.until) {
    return Error{"the window " + FormatTime(query.since) + ".." + FormatTime(query.until) +
                 " is empty"};
  }
  where += " AND start_time >= " + std::to_string(query.since) + " AND start_time < " +
           std::to_string(query.until);
  if (!query.probe_cc.empty()) where += " AND probe_cc = " + QuoteSql(d, query.probe_cc);
  if (!query.probe_asns.empty()) {
    where += " AND probe_asn IN (";
    for (size_t i = 0; i < query.probe_asns.size(); ++i) {
      where += (i ? ", " : "") + std::to_string(query.probe_asns[i]);
    }
    where += ")";
  }
  if (!query.targets.empty()) {
    where += " AND target IN (";
    for (size_t i = 0; i < query.targets.size(); ++i) {
      where += (i ? ", " : "") + QuoteSql(d, query.targets[i]);
    }
    where += ")";
  }
  if (!query.test_name.empty()) where += " AND test_name = " + QuoteSql(d, query.test_name);

  SeriesBuilder builder(query);
  std::string bad;
  auto r = store.Select(
      "SELECT start_time, upload_time, probe_cc, probe_asn, target, report_id, software_name, "
      "verdict, measured_layers, blocked_layers, masked_layers FROM verdicts" +
          where,
      [&](const SqlRow& row) {
        SeriesRow x;
        x.start_time = std::strtoll(row.values[0].c_str(), nullptr, 10);
        x.upload_time = std::strtoll(row.values[1].c_str(), nullptr, 10);
        x.probe_cc = row.values[2];
        x.probe_asn = static_cast<uint32_t>(std::strtoul(row.values[3].c_str(), nullptr, 10));
        x.target = row.values[4];
        x.report_id = row.values[5];
        x.software_name = row.values[6];
        auto v = ParseVerdictClass(row.values[7]);
        // Verdicts stored before classes existed read as ok or error by their outcome;
        // they were migrated with an empty class: count them as errors (no judgement).
        x.verdict = static_cast<uint8_t>(v.ok() ? *v : VerdictClass::kError);
        x.measured_layers = static_cast<uint8_t>(std::atoi(row.values[8].c_str()));
        x.blocked_layers = static_cast<uint8_t>(std::atoi(row.values[9].c_str()));
        x.masked_layers = static_cast<uint8_t>(std::atoi(row.values[10].c_str()));
        builder.Add(x);
      });
  if (!r.ok()) return Error{r.error()};
  return builder.Finish();
}

}  // namespace vigil::analysis
