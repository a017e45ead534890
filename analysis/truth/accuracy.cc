#include "analysis/truth/accuracy.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <tuple>

#include "analysis/truth/attribution.h"

namespace vigil::analysis {
namespace {

std::string Network(const AccuracyRow& r) {
  return "AS" + std::to_string(r.probe_asn) + " " + r.probe_cc;
}

std::string TruthText(const AccuracyRow& r) {
  if (r.techniques.empty()) return "-";
  std::string s;
  for (Technique t : r.techniques) {
    if (!s.empty()) s += "+";
    s += TechniqueName(t);
  }
  return s;
}

std::string VerdictText(const AnalyzerCall& c) {
  return c.blocking_type.empty() ? c.outcome : c.outcome + " " + c.blocking_type;
}

std::string Pad(std::string s, size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

std::string TotalsText(const AccuracyTotals& t) {
  return "censor acted on " + std::to_string(t.acted()) + ": " + std::to_string(t.found) +
         " found, " + std::to_string(t.wrong_technique) + " wrong technique, " +
         std::to_string(t.missed) + " missed; untouched " + std::to_string(t.untouched()) + ": " +
         std::to_string(t.false_positive) + " false positive, " + std::to_string(t.ok) + " ok";
}

nlohmann::json TotalsJson(const AccuracyTotals& t) {
  return {{"found", t.found},
          {"wrong_technique", t.wrong_technique},
          {"missed", t.missed},
          {"false_positive", t.false_positive},
          {"ok", t.ok}};
}

}  // namespace

std::string_view LabelName(Label label) {
  switch (label) {
    case Label::kFound:
      return "found";
    case Label::kWrongTechnique:
      return "wrong_technique";
    case Label::kMissed:
      return "missed";
    case Label::kFalsePositive:
      return "false_positive";
    case Label::kOk:
      return "ok";
  }
  return "?";
}

AnalyzerCall CallOf(const VerdictRow& verdict) {
  AnalyzerCall call;
  call.outcome = std::string(VerdictClassName(verdict.verdict));
  call.flagged =
      verdict.verdict == VerdictClass::kBlocked || verdict.verdict == VerdictClass::kAnomaly;
  if (call.flagged) call.blocking_type = verdict.blocking_type;
  return call;
}

Label LabelOf(const std::vector<Technique>& all, const AnalyzerCall& call) {
  // Slowed is not blocked: a service the censor only degraded was left usable.
  std::vector<Technique> techniques;
  for (Technique t : all) {
    if (Blocks(t)) techniques.push_back(t);
  }
  if (techniques.empty()) return call.flagged ? Label::kFalsePositive : Label::kOk;
  if (!call.flagged) return Label::kMissed;
  for (Technique t : techniques) {
    const auto& types = ExpectedBlockingTypes(t);
    if (std::find(types.begin(), types.end(), call.blocking_type) != types.end()) {
      return Label::kFound;
    }
  }
  return Label::kWrongTechnique;
}

void AccuracyTotals::Add(Label label) {
  switch (label) {
    case Label::kFound:
      ++found;
      break;
    case Label::kWrongTechnique:
      ++wrong_technique;
      break;
    case Label::kMissed:
      ++missed;
      break;
    case Label::kFalsePositive:
      ++false_positive;
      break;
    case Label::kOk:
      ++ok;
      break;
  }
}

TruthComparison::TruthComparison(std::vector<ScenarioTruth> scenarios)
    : scenarios_(std::move(scenarios)) {
  // Rows and totals go by scenario name: the same scenario run twice gets two names.
  std::vector<std::string> given;
  for (const ScenarioTruth& s : scenarios_) given.push_back(s.scenario);
  for (size_t i = 0; i < scenarios_.size(); ++i) {
    const auto copies =
        std::count(given.begin(), given.begin() + static_cast<ptrdiff_t>(i) + 1, given[i]);
    if (copies > 1) scenarios_[i].scenario += "#" + std::to_string(copies);
  }
}

void TruthComparison::Add(const ExtractedMeasurement& m, const VerdictRow& verdict) {
  const EnvelopeRow& e = m.measurement;
  // The truth whose censor started last at or before the measurement's second.
  const ScenarioTruth* covering = nullptr;
  double covering_start = -INFINITY;
  for (const ScenarioTruth& s : scenarios_) {
    const auto start = s.truth.Start();
    const double t = start ? std::floor(*start) : -INFINITY;
    if (t > static_cast<double>(e.start_time)) continue;
    if (covering == nullptr || t >= covering_start) {
      covering = &s;
      covering_start = t;
    }
  }
  if (covering == nullptr) {
    ++not_covered_;
    return;
  }
  AccuracyRow row;
  row.scenario = covering->scenario;
  row.phase = covering->truth.PhaseAt(e.start_time);
  row.service = e.input.empty() ? e.target : e.input;
  row.test = e.test_name;
  row.probe_cc = e.probe_cc;
  row.probe_asn = e.probe_asn;
  row.measurement_uid = e.measurement_uid;
  row.source = e.source_file + ":" + std::to_string(e.source_line);
  row.start_time = e.start_time;
  for (size_t i : ActsOn(covering->truth, m)) {
    const CensorAct& act = covering->truth.acts[i];
    ++row.acts;
    const Technique t = TechniqueOf(act);
    if (std::find(row.techniques.begin(), row.techniques.end(), t) == row.techniques.end()) {
      row.techniques.push_back(t);
    }
    if (std::find(row.rules.begin(), row.rules.end(), act.rule) == row.rules.end()) {
      row.rules.push_back(act.rule);
    }
  }
  row.call = CallOf(verdict);
  row.label = LabelOf(row.techniques, row.call);
  rows_.push_back(std::move(row));
}

std::vector<AccuracyRow> TruthComparison::SortedRows() const {
  std::vector<AccuracyRow> rows = rows_;
  auto scenario_index = [this](const std::string& name) {
    for (size_t i = 0; i < scenarios_.size(); ++i) {
      if (scenarios_[i].scenario == name) return i;
    }
    return scenarios_.size();
  };
  std::stable_sort(rows.begin(), rows.end(), [&](const AccuracyRow& a, const AccuracyRow& b) {
    return std::forward_as_tuple(scenario_index(a.scenario), a.phase, a.service, a.test,
                                 a.probe_asn, a.probe_cc, a.start_time) <
           std::forward_as_tuple(scenario_index(b.scenario), b.phase, b.service, b.test,
                                 b.probe_asn, b.probe_cc, b.start_time);
  });
  return rows;
}

AccuracyTotals TruthComparison::Totals(const std::string& scenario) const {
  AccuracyTotals totals;
  for (const AccuracyRow& r : rows_) {
    if (scenario.empty() || r.scenario == scenario) totals.Add(r.label);
  }
  return totals;
}

std::string TruthComparison::Table() const {
  const std::vector<AccuracyRow> rows = SortedRows();
  std::string out;
  for (const ScenarioTruth& s : scenarios_) {
    std::vector<const AccuracyRow*> mine;
    for (const AccuracyRow& r : rows) {
      if (r.scenario == s.scenario) mine.push_back(&r);
    }
    out += "scenario " + s.scenario + " (" + s.truth.file + "): " + std::to_string(mine.size()) +
           " measurements\n";
    if (mine.empty()) continue;
    size_t w_service = 7, w_test = 4, w_network = 7, w_truth = 5, w_verdict = 7;
    for (const AccuracyRow* r : mine) {
      w_service = std::max(w_service, std::min<size_t>(r->service.size(), 40));
      w_test = std::max(w_test, r->test.size());
      w_network = std::max(w_network, Network(*r).size());
      w_truth = std::max(w_truth, TruthText(*r).size());
      w_verdict = std::max(w_verdict, VerdictText(r->call).size());
    }
    auto line = [&](std::string service, const std::string& test, const std::string& network,
                    const std::string& phase, const std::string& truth, const std::string& verdict,
                    std::string_view label) {
      if (service.size() > 40) service = service.substr(0, 37) + "...";
      out += "  " + Pad(service, w_service) + "  " + Pad(test, w_test) + "  " +
             Pad(network, w_network) + "  " + Pad(phase, 5) + "  " + Pad(truth, w_truth) + "  " +
             Pad(verdict, w_verdict) + "  " + std::string(label) + "\n";
    };
    line("SERVICE", "TEST", "NETWORK", "PHASE", "TRUTH", "VERDICT", "LABEL");
    for (const AccuracyRow* r : mine) {
      line(r->service, r->test, Network(*r), std::to_string(r->phase), TruthText(*r),
           VerdictText(r->call), LabelName(r->label));
    }
    out += "  " + s.scenario + ": " + TotalsText(Totals(s.scenario)) + "\n";
  }
  out += "all scenarios: " + TotalsText(Totals()) + "\n";
  if (not_covered_ > 0) {
    out += std::to_string(not_covered_) +
           " measurements started before the censor of every truth file: not compared\n";
  }
  return out;
}

std::string TruthComparison::JsonLines() const {
  std::string out;
  for (const AccuracyRow& r : SortedRows()) {
    std::vector<std::string> techniques;
    std::vector<std::string> expected;
    for (Technique t : r.techniques) {
      techniques.emplace_back(TechniqueName(t));
      for (std::string_view type : ExpectedBlockingTypes(t)) {
        if (std::find(expected.begin(), expected.end(), type) == expected.end()) {
          expected.emplace_back(type);
        }
      }
    }
    nlohmann::json line = {
        {"kind", "measurement"},
        {"scenario", r.scenario},
        {"phase", r.phase},
        {"service", r.service},
        {"test_name", r.test},
        {"probe_cc", r.probe_cc},
        {"probe_asn", "AS" + std::to_string(r.probe_asn)},
        {"measurement_uid", r.measurement_uid},
        {"source", r.source},
        {"start_time", r.start_time},
        {"truth",
         {{"techniques", techniques},
          {"rules", r.rules},
          {"acts", r.acts},
          {"expected_blocking_types", expected}}},
        {"verdict",
         {{"outcome", r.call.outcome},
          {"blocking_type", r.call.blocking_type},
          {"flagged", r.call.flagged}}},
        {"label", std::string(LabelName(r.label))},
    };
    out += line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  for (const ScenarioTruth& s : scenarios_) {
    nlohmann::json line = {{"kind", "totals"},
                           {"scenario", s.scenario},
                           {"truth_file", s.truth.file},
                           {"totals", TotalsJson(Totals(s.scenario))}};
    out += line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  nlohmann::json all = {{"kind", "totals"},
                        {"scenario", nullptr},
                        {"totals", TotalsJson(Totals())},
                        {"not_covered", not_covered_}};
  out += all.dump() + "\n";
  return out;
}

}  // namespace vigil::analysis
