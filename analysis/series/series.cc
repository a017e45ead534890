// BuildSeries: the verdicts of one rules version laid on the grid, read once and narrow
// (no measurements, no JSON). ClickHouse groups the rows itself (counts per key, cell,
// class and layer bits; distinct reports per cell; bursts per source and minute) and
// sends the groups; SQLite is scanned on every core over rowid ranges, each part laid
// out by a builder of its own, merged at the end. Both give the same cells (a test holds
// them to a layout of the same verdicts in memory).
#include "analysis/series/series.h"

#include <algorithm>
#include <array>
#include <cstdlib>
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

constexpr uint32_t kBurstPerMinute = 200;
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

// FNV-1a, 32 bits: a report's identity within one cell (a collision needs two of a cell's
// reports to share 32 bits).
uint32_t Fnv(std::string_view s) {
  uint32_t h = 2166136261u;
  for (const char c : s) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
  return h;
}

bool Skewed(int64_t start, int64_t upload) {
  return upload > 0 && std::llabs(start - upload) > kSkewSeconds;
}

}  // namespace

struct SeriesBuilder::State {
  SeriesQuery query;
  int64_t step = 0;
  size_t cells = 0;
  std::string error;
  uint64_t rows = 0;
  bool wanted[kSeriesLayerCount] = {};
  bool all_layers = false;

  // One group per (cc, asn, target): its series per layer (null until the layer is seen
  // measured, or when the query leaves it out).
  struct Group {
    SeriesKey key;
    std::array<std::unique_ptr<std::vector<SeriesCell>>, kSeriesLayerCount> layers;
  };
  std::vector<Group> groups;
  std::unordered_map<std::string, uint32_t> group_index;
  std::string key_buffer;
  size_t allocated_cells = 0;

  // Distinct reports: (group * cells + cell) << 32 | report hash, sorted at the end; or
  // counts given by a store, per group and cell.
  std::vector<uint64_t> reports;
  std::map<std::pair<uint32_t, size_t>, uint32_t> given_probes;

  // Lookups by a 64-bit hash of the key first (no string built per row), checked against
  // the key; the string maps are the fallback for a collision.
  std::unordered_map<uint64_t, uint32_t> group_by_hash;

  // Bursts: sources (cc, asn, software), and per source and hour the count of each of
  // its minutes (saturating), keyed source << 40 | hour: a table of hours stays small
  // enough to sit in cache, where one of minutes cost a third of the scan; or minutes a
  // store found.
  struct Source {
    std::string cc;
    uint32_t asn = 0;
    std::string software;
  };
  std::vector<Source> sources;
  std::unordered_map<std::string, uint32_t> source_index;
  std::unordered_map<uint64_t, uint32_t> source_by_hash;
  std::unordered_map<uint64_t, std::array<uint16_t, 60>> hours;
  std::vector<std::tuple<std::string, uint32_t, int64_t>> given_bursts;

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

  bool Wanted(std::string_view cc, uint32_t asn, std::string_view target) const {
    if (!query.probe_cc.empty() && cc != query.probe_cc) return false;
    if (!query.probe_asns.empty() && std::find(query.probe_asns.begin(), query.probe_asns.end(),
                                               asn) == query.probe_asns.end()) {
      return false;
    }
    return query.targets.empty() ||
           std::find(query.targets.begin(), query.targets.end(), target) != query.targets.end();
  }

  static uint64_t Hash(std::string_view a, uint32_t n, std::string_view b) {
    uint64_t h = 14695981039346656037ull;
    auto mix = [&](std::string_view x) {
      for (const char c : x) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
      h = (h ^ 0xff) * 1099511628211ull;  // a separator: ("ab", "c") is not ("a", "bc")
    };
    mix(a);
    h = (h ^ n) * 1099511628211ull;
    mix(b);
    return h;
  }

  // The source (cc, asn, software), made on first sight.
  uint32_t SourceOf(std::string_view cc, uint32_t asn, std::string_view software) {
    const uint64_t h = Hash(cc, asn, software);
    auto it = source_by_hash.find(h);
    if (it != source_by_hash.end()) {
      const Source& x = sources[it->second];
      if (x.asn == asn && x.cc == cc && x.software == software) return it->second;
    }
    key_buffer.assign(cc);
    key_buffer += '\t';
    key_buffer += std::to_string(asn);
    key_buffer += '\t';
    key_buffer += software;
    auto [jt, added] = source_index.try_emplace(key_buffer, static_cast<uint32_t>(sources.size()));
    if (added) sources.push_back({std::string(cc), asn, std::string(software)});
    if (it == source_by_hash.end()) source_by_hash.emplace(h, jt->second);
    return jt->second;
  }

  static constexpr uint64_t kHourMask = (uint64_t{1} << 40) - 1;

  static void Bump(uint16_t& count, uint32_t n) {
    count = static_cast<uint16_t>(std::min<uint32_t>(UINT16_MAX, count + n));
  }

  void CountMinute(uint32_t source, int64_t start_time) {
    const int64_t minute = start_time / 60 - (start_time % 60 < 0);
    const int64_t hour = minute / 60 - (minute % 60 < 0);
    auto& counts =
        hours[static_cast<uint64_t>(source) << 40 | (static_cast<uint64_t>(hour) & kHourMask)];
    Bump(counts[static_cast<size_t>(minute - hour * 60)], 1);
  }

  // The group of (cc, asn, target), made on first sight.
  uint32_t GroupOf(std::string_view cc, uint32_t asn, std::string_view target) {
    const uint64_t h = Hash(cc, asn, target);
    auto fast = group_by_hash.find(h);
    if (fast != group_by_hash.end()) {
      const SeriesKey& k = groups[fast->second].key;
      if (k.probe_asn == asn && k.probe_cc == cc && k.target == target) return fast->second;
    }
    key_buffer.assign(cc);
    key_buffer += '\t';
    key_buffer += std::to_string(asn);
    key_buffer += '\t';
    key_buffer += target;
    auto [it, added] = group_index.try_emplace(key_buffer, static_cast<uint32_t>(groups.size()));
    if (added) {
      Group g;
      g.key = SeriesKey{std::string(cc), asn, std::string(target), SeriesLayer::kAny};
      groups.push_back(std::move(g));
    }
    if (fast == group_by_hash.end()) group_by_hash.emplace(h, it->second);
    return it->second;
  }

  size_t CellOf(int64_t t) const { return static_cast<size_t>((t - query.since) / step); }
  bool InWindow(int64_t t) const { return t >= query.since && t < query.until; }

  void Count(const SeriesRow& row, uint32_t group, uint32_t count, uint32_t skewed) {
    Group& g = groups[group];
    const size_t cell = CellOf(row.start_time);
    const auto verdict = static_cast<VerdictClass>(row.verdict);
    const bool judged = verdict == VerdictClass::kOk || verdict == VerdictClass::kBlocked ||
                        verdict == VerdictClass::kAnomaly;
    // Whole measurements: the kAny series holds what every layer shares.
    auto* any = Layer(g, static_cast<size_t>(SeriesLayer::kAny));
    if (any == nullptr) return;
    SeriesCell& a = (*any)[cell];
    a.measurements += count;
    if (skewed) a.flags |= kCellClockSkew;
    switch (verdict) {
      case VerdictClass::kOk:
        a.usable += count;
        break;
      case VerdictClass::kBlocked:
        a.usable += count;
        a.blocked += count;
        break;
      case VerdictClass::kAnomaly:
        a.usable += count;
        a.anomaly += count;
        break;
      case VerdictClass::kDown:
        a.down += count;
        break;
      case VerdictClass::kNoNetwork:
        a.no_network += count;
        break;
      case VerdictClass::kError:
        a.error += count;
        break;
    }
    // Per layer: only what says something there.
    for (size_t l = 0; l + 1 < kSeriesLayerCount; ++l) {
      const uint8_t bit = static_cast<uint8_t>(1u << l);
      if (!(row.measured_layers & bit)) continue;
      auto* cells_of = Layer(g, l);
      if (cells_of == nullptr) {
        if (!error.empty()) return;
        continue;
      }
      SeriesCell& c = (*cells_of)[cell];
      if (row.masked_layers & bit) {
        c.masked += count;
      } else if (judged) {
        c.usable += count;
        if (row.blocked_layers & bit) {
          c.blocked += count;
        } else if (verdict == VerdictClass::kAnomaly) {
          c.anomaly += count;
        }
      }
    }
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
  if (!s.error.empty() || !s.InWindow(row.start_time)) return;
  if (!s.Wanted(row.probe_cc, row.probe_asn, row.target)) return;
  ++s.rows;
  const uint32_t group = s.GroupOf(row.probe_cc, row.probe_asn, row.target);
  s.Count(row, group, 1, Skewed(row.start_time, row.upload_time) ? 1 : 0);
  s.reports.push_back((static_cast<uint64_t>(group) * s.cells + s.CellOf(row.start_time)) << 32 |
                      Fnv(row.report_id));
  s.CountMinute(s.SourceOf(row.probe_cc, row.probe_asn, row.software_name), row.start_time);
}

void SeriesBuilder::AddCount(const SeriesRow& row, uint32_t count, uint32_t skewed) {
  State& s = *state_;
  if (!s.error.empty() || !s.InWindow(row.start_time)) return;
  if (!s.Wanted(row.probe_cc, row.probe_asn, row.target)) return;
  s.rows += count;
  s.Count(row, s.GroupOf(row.probe_cc, row.probe_asn, row.target), count, skewed);
}

void SeriesBuilder::AddProbes(std::string_view cc, uint32_t asn, std::string_view target,
                              int64_t time, uint32_t probes) {
  State& s = *state_;
  if (!s.error.empty() || !s.InWindow(time) || !s.Wanted(cc, asn, target)) return;
  s.given_probes[{s.GroupOf(cc, asn, target), s.CellOf(time)}] += probes;
}

void SeriesBuilder::AddBurst(std::string_view cc, uint32_t asn, int64_t time) {
  state_->given_bursts.emplace_back(std::string(cc), asn, time);
}

void SeriesBuilder::Merge(SeriesBuilder& other_builder) {
  State& s = *state_;
  State& o = *other_builder.state_;
  if (!o.error.empty() && s.error.empty()) s.error = o.error;
  if (!s.error.empty()) return;
  s.rows += o.rows;
  std::vector<uint32_t> mapped(o.groups.size());
  for (size_t i = 0; i < o.groups.size(); ++i) {
    State::Group& from = o.groups[i];
    const uint32_t to = s.GroupOf(from.key.probe_cc, from.key.probe_asn, from.key.target);
    mapped[i] = to;
    for (size_t l = 0; l < kSeriesLayerCount; ++l) {
      if (!from.layers[l]) continue;
      auto* cells = s.Layer(s.groups[to], l);
      if (cells == nullptr) return;
      for (size_t c = 0; c < s.cells; ++c) {
        SeriesCell& a = (*cells)[c];
        const SeriesCell& b = (*from.layers[l])[c];
        a.measurements += b.measurements;
        a.usable += b.usable;
        a.blocked += b.blocked;
        a.anomaly += b.anomaly;
        a.masked += b.masked;
        a.down += b.down;
        a.no_network += b.no_network;
        a.error += b.error;
        a.flags |= b.flags;
      }
    }
  }
  for (uint64_t r : o.reports) {
    const uint64_t cell_id = r >> 32;
    const uint64_t group = cell_id / s.cells, cell = cell_id % s.cells;
    s.reports.push_back((mapped[group] * s.cells + cell) << 32 | (r & 0xffffffffu));
  }
  for (const auto& [key, probes] : o.given_probes) {
    s.given_probes[{mapped[key.first], key.second}] += probes;
  }
  std::vector<uint32_t> sources(o.sources.size());
  for (size_t i = 0; i < o.sources.size(); ++i) {
    sources[i] = s.SourceOf(o.sources[i].cc, o.sources[i].asn, o.sources[i].software);
  }
  for (const auto& [key, counts] : o.hours) {
    auto& mine =
        s.hours[static_cast<uint64_t>(sources[key >> 40]) << 40 | (key & State::kHourMask)];
    for (size_t m = 0; m < 60; ++m) State::Bump(mine[m], counts[m]);
  }
  s.given_bursts.insert(s.given_bursts.end(), o.given_bursts.begin(), o.given_bursts.end());
  o.groups.clear();
  o.group_index.clear();
  o.reports.clear();
  o.given_probes.clear();
  o.hours.clear();
  o.sources.clear();
  o.source_index.clear();
  o.source_by_hash.clear();
  o.group_by_hash.clear();
  o.given_bursts.clear();
  o.rows = 0;
}

Result<SeriesSet> SeriesBuilder::Finish() {
  State& s = *state_;
  if (!s.error.empty()) return Error{s.error};
  SeriesSet out;
  out.query = s.query;
  out.rows_read = s.rows;

  // Bursts flag the cell of every series of the source's network.
  for (const auto& [key, counts] : s.hours) {
    int64_t hour = static_cast<int64_t>(key & State::kHourMask);
    if (hour >= (int64_t{1} << 39)) hour -= int64_t{1} << 40;  // before 1970
    const State::Source& source = s.sources[key >> 40];
    for (size_t m = 0; m < 60; ++m) {
      if (counts[m] < kBurstPerMinute) continue;
      s.given_bursts.emplace_back(source.cc, source.asn,
                                  (hour * 60 + static_cast<int64_t>(m)) * 60);
    }
  }

  for (const auto& [cc, asn, time] : s.given_bursts) {
    if (!s.InWindow(time)) continue;
    const size_t cell = s.CellOf(time);
    for (State::Group& g : s.groups) {
      if (g.key.probe_cc != cc || g.key.probe_asn != asn) continue;
      for (auto& layer : g.layers) {
        if (layer) (*layer)[cell].flags |= kCellBurst;
      }
    }
  }

  // Distinct reports per cell, onto the kAny series (copied to the layers below).
  std::sort(s.reports.begin(), s.reports.end());
  for (size_t i = 0; i < s.reports.size(); ++i) {
    if (i > 0 && s.reports[i] == s.reports[i - 1]) continue;
    const uint64_t cell_id = s.reports[i] >> 32;
    auto& any = *s.groups[cell_id / s.cells].layers[static_cast<size_t>(SeriesLayer::kAny)];
    ++any[cell_id % s.cells].probes;
  }
  for (const auto& [key, probes] : s.given_probes) {
    auto& layer = s.groups[key.first].layers[static_cast<size_t>(SeriesLayer::kAny)];
    if (!layer) continue;  // reports counted where no verdict was (cannot happen)
    (*layer)[key.second].probes += probes;
  }

  for (State::Group& g : s.groups) {
    if (!g.layers[static_cast<size_t>(SeriesLayer::kAny)]) continue;
    const auto& any = *g.layers[static_cast<size_t>(SeriesLayer::kAny)];
    for (size_t l = 0; l < kSeriesLayerCount; ++l) {
      if (!g.layers[l]) continue;
      if (!s.all_layers && !s.wanted[l]) continue;
      auto& cells = *g.layers[l];
      if (l != static_cast<size_t>(SeriesLayer::kAny)) {
        for (size_t i = 0; i < cells.size(); ++i) {
          SeriesCell& c = cells[i];
          c.measurements = any[i].measurements;
          c.down = any[i].down;
          c.no_network = any[i].no_network;
          c.error = any[i].error;
          c.probes = any[i].probes;
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

namespace {

// ClickHouse: the store groups, vigil lays the groups out.
Result<void> LayGroups(Store& store, const std::string& where, const SeriesQuery& q,
                       SeriesBuilder& builder) {
  const std::string cell = "intDiv(start_time - " + std::to_string(q.since) + ", " +
                           std::to_string(GrainSeconds(q.grain)) + ")";
  // Grouped by numbers where it can be (a hash of the strings; the cell and the layer
  // bits packed in one key): ClickHouse groups numbers several times faster than strings.
  auto r = store.Select(
      "SELECT any(probe_cc), probe_asn, any(target), any(verdict), " + cell +
          " * 16777216 + measured_layers * 65536 + blocked_layers * 256 + masked_layers AS k, "
          "count(), countIf(upload_time > 0 AND abs(start_time - upload_time) > " +
          std::to_string(kSkewSeconds) + ") FROM verdicts" + where +
          " GROUP BY cityHash64(probe_cc, target, verdict), probe_asn, k",
      [&](const SqlRow& row) {
        SeriesRow x;
        x.probe_cc = row.values[0];
        x.probe_asn = static_cast<uint32_t>(std::strtoul(row.values[1].c_str(), nullptr, 10));
        x.target = row.values[2];
        auto v = ParseVerdictClass(row.values[3]);
        x.verdict = static_cast<uint8_t>(v.ok() ? *v : VerdictClass::kError);
        const int64_t k = std::strtoll(row.values[4].c_str(), nullptr, 10);
        x.start_time = q.since + (k >> 24) * GrainSeconds(q.grain);
        x.measured_layers = static_cast<uint8_t>((k >> 16) & 0xff);
        x.blocked_layers = static_cast<uint8_t>((k >> 8) & 0xff);
        x.masked_layers = static_cast<uint8_t>(k & 0xff);
        builder.AddCount(x, static_cast<uint32_t>(std::stoul(row.values[5])),
                         static_cast<uint32_t>(std::stoul(row.values[6])));
      });
  if (!r.ok()) return r;
  // uniq is exact up to 65,536 values a cell, and cheaper than uniqExact.
  r = store.Select(
      "SELECT any(probe_cc), probe_asn, any(target), " + cell +
          " AS cell, uniq(report_id) FROM verdicts" + where +
          " GROUP BY cityHash64(probe_cc, target), probe_asn, cell",
      [&](const SqlRow& row) {
        builder.AddProbes(
            row.values[0], static_cast<uint32_t>(std::strtoul(row.values[1].c_str(), nullptr, 10)),
            row.values[2],
            q.since + std::strtoll(row.values[3].c_str(), nullptr, 10) * GrainSeconds(q.grain),
            static_cast<uint32_t>(std::stoul(row.values[4])));
      });
  if (!r.ok()) return r;
  // Bursts: a source's minute of 200 is a minute of 200 for its network, and grouping by
  // numbers is several times cheaper than by strings: the networks' minutes first, then
  // the sources only in those (few, or none).
  const std::string burst = std::to_string(kBurstPerMinute);
  std::vector<std::string> minutes;
  r = store.Select(
      "SELECT intDiv(intDiv(start_time, 60) * 4294967296 + probe_asn, 4294967296) "
      "FROM verdicts" +
          where + " GROUP BY intDiv(start_time, 60) * 4294967296 + probe_asn " +
          "HAVING count() >= " + burst,
      [&](const SqlRow& row) { minutes.push_back(row.values[0]); });
  if (!r.ok() || minutes.empty()) return r;
  std::sort(minutes.begin(), minutes.end());
  minutes.erase(std::unique(minutes.begin(), minutes.end()), minutes.end());
  std::string in;
  if (minutes.size() <= 10000) {
    in = " AND intDiv(start_time, 60) IN (";
    for (size_t i = 0; i < minutes.size(); ++i) in += (i ? ", " : "") + minutes[i];
    in += ")";
  }
  return store.Select(
      "SELECT probe_cc, probe_asn, intDiv(start_time, 60) * 60 AS minute FROM verdicts" + where +
          in + " GROUP BY probe_cc, probe_asn, software_name, minute HAVING count() >= " + burst,
      [&](const SqlRow& row) {
        builder.AddBurst(row.values[0],
                         static_cast<uint32_t>(std::strtoul(row.values[1].c_str(), nullptr, 10)),
                         std::strtoll(row.values[2].c_str(), nullptr, 10));
      });
}

// Elsewhere: every row, in parts when the store splits the scan, one builder a part.
Result<void> LayRows(Store& store, const std::string& where, const SeriesQuery& q,
                     SeriesBuilder& builder) {
  std::vector<std::unique_ptr<SeriesBuilder>> parts;
  auto used = store.ScanVerdicts(
      "start_time, upload_time, probe_cc, probe_asn, target, report_id, software_name, "
      "verdict, measured_layers, blocked_layers, masked_layers",
      where, q.rules_version, q.since, q.until, 8, [&](size_t part) -> ScanSink {
        while (parts.size() <= part) parts.push_back(std::make_unique<SeriesBuilder>(q));
        SeriesBuilder* b = parts[part].get();
        return [b](const ScanRow& row) {
          SeriesRow x;
          x.start_time = row.Int(0);
          x.upload_time = row.Int(1);
          x.probe_cc = row.Text(2);
          x.probe_asn = static_cast<uint32_t>(row.Int(3));
          x.target = row.Text(4);
          x.report_id = row.Text(5);
          x.software_name = row.Text(6);
          auto v = ParseVerdictClass(row.Text(7));
          // Verdicts migrated from before classes have none: no judgement.
          x.verdict = static_cast<uint8_t>(v.ok() ? *v : VerdictClass::kError);
          x.measured_layers = static_cast<uint8_t>(row.Int(8));
          x.blocked_layers = static_cast<uint8_t>(row.Int(9));
          x.masked_layers = static_cast<uint8_t>(row.Int(10));
          b->Add(x);
        };
      });
  if (!used.ok()) return Error{used.error()};
  for (auto& part : parts) builder.Merge(*part);
  return {};
}

}  // namespace

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
  SeriesBuilder builder(query);
  // The builder aligned the window to whole cells: read that window.
  const int64_t step = GrainSeconds(query.grain);
  const int64_t since = CellStart(query.since, query.grain);
  const int64_t until = std::max(since, CellStart(query.until + step - 1, query.grain));
  query.since = since;
  query.until = until;
  where +=
      " AND start_time >= " + std::to_string(since) + " AND start_time < " + std::to_string(until);
  if (!query.probe_cc.empty()) where += " AND probe_cc = " + QuoteSql(d, query.probe_cc);
  if (!query.probe_asns.empty()) where += " AND probe_asn IN " + SqlList(query.probe_asns);
  if (!query.targets.empty()) where += " AND target IN " + SqlList(d, query.targets);
  if (!query.test_name.empty()) where += " AND test_name = " + QuoteSql(d, query.test_name);
  auto laid = d == SqlDialect::kClickHouse ? LayGroups(store, where, query, builder)
                                           : LayRows(store, where, query, builder);
  if (!laid.ok()) return Error{laid.error()};
  return builder.Finish();
}

}  // namespace vigil::analysis
