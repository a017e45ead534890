#include "vantage/runner/run_plan.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>
#include <sstream>

#include "base/whole_file.h"
#include "probe/experiments/registry.h"
#include "probe/http/url.h"
#include "probe/testlists/test_list.h"

namespace vigil {

namespace {

// "im, websites, all, dnscheck, ...": what a target may name.
std::string KnownTargets(const ExperimentRegistry& registry) {
  std::string known;
  for (const auto& g : registry.catalog().GroupNames()) known += (known.empty() ? "" : ", ") + g;
  for (const auto& d : registry.catalog().descriptors()) known += ", " + d.name;
  return known;
}

}  // namespace

Result<std::vector<std::string>> ReadInputFile(const std::string& path) {
  auto text = ReadWholeFile(path);
  if (!text.ok()) return Error{path + ": cannot read"};
  std::vector<std::string> inputs;
  std::istringstream lines(*text);
  std::string line;
  while (std::getline(lines, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
      line.pop_back();
    }
    const size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    inputs.push_back(line.substr(start));
  }
  return inputs;
}

Result<std::vector<std::string>> TestListUrls(const std::string& data_dir,
                                              const std::string& country,
                                              const std::vector<std::string>& categories) {
  const std::string lists = data_dir + "/lists";
  std::vector<std::string> files = {lists + "/global.csv"};
  if (!country.empty()) {
    std::string cc = country;
    std::transform(cc.begin(), cc.end(), cc.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    const std::string file = lists + "/" + cc + ".csv";
    if (!std::filesystem::exists(file)) return Error{"--country " + country + ": no list " + file};
    files.push_back(file);
  }
  std::set<std::string> wanted(categories.begin(), categories.end());
  std::vector<std::string> urls;
  std::set<std::string> seen;
  for (const auto& file : files) {
    auto list = ReadTestList(file);
    if (!list.ok()) return Error{list.error()};
    for (const auto& e : list.value().entries) {
      if (!wanted.empty() && !wanted.count(e.category_code)) continue;
      if (seen.insert(e.url).second) urls.push_back(e.url);
    }
  }
  return urls;
}

std::string PolitenessKey(const Job& job) {
  if (!job.input.is_string()) return std::string(job.experiment->name());
  const std::string input = job.input.get<std::string>();
  auto url = ParseUrl(input);
  return url.ok() ? url->host : input;
}

Result<RunPlan> PlanRun(const PlanRequest& request, const ExperimentRegistry& registry,
                        const std::function<void(const std::string&)>& note) {
  RunPlan plan;
  plan.target = request.target;
  std::vector<std::string> names = registry.catalog().Group(request.target);
  if (names.empty()) names = {request.target};
  for (const auto& n : names) {
    auto e = registry.Make(n);
    if (!e) {
      return Error{"unknown experiment or group '" + request.target + "' (" +
                   KnownTargets(registry) + ")"};
    }
    plan.experiments.push_back(std::move(e));
  }

  std::vector<std::string> inputs = request.inputs;
  if (!request.input_file.empty()) {
    auto more = ReadInputFile(request.input_file);
    if (!more.ok()) return Error{"--input-file: " + more.error()};
    inputs.insert(inputs.end(), more.value().begin(), more.value().end());
  }

  const bool group = plan.experiments.size() > 1;
  for (const auto& e : plan.experiments) {
    auto off = std::find_if(request.not_enabled.begin(), request.not_enabled.end(),
                            [&e](const auto& n) { return n.first == e->name(); });
    if (off != request.not_enabled.end()) {
      if (!group) return Error{off->first + " is not enabled: " + off->second};
      if (note) note(off->first + " skipped: not enabled (" + off->second + ")");
      continue;
    }
    switch (e->input_policy()) {
      case InputPolicy::kNone:
        plan.jobs.push_back({e.get(), nullptr});
        break;
      case InputPolicy::kOptional: {
        std::vector<std::string> own = inputs;
        if (own.empty()) {
          auto defaults = e->DefaultInputs(request.data_dir);
          if (!defaults.ok()) return Error{defaults.error()};
          own = std::move(defaults.value());
        }
        if (own.empty()) plan.jobs.push_back({e.get(), nullptr});
        for (const auto& in : own) plan.jobs.push_back({e.get(), Json(in)});
        break;
      }
      case InputPolicy::kRequired: {
        std::vector<std::string> own = inputs;
        const ExperimentDescriptor* d = registry.catalog().Find(e->name());
        if (own.empty() && d && d->default_inputs == DefaultInputSource::kTestLists) {
          auto urls = TestListUrls(request.data_dir, request.country, request.categories);
          if (!urls.ok()) return Error{urls.error()};
          own = urls.value();
        }
        if (own.empty()) {
          auto defaults = e->DefaultInputs(request.data_dir);
          if (!defaults.ok()) return Error{defaults.error()};
          own = std::move(defaults.value());
        }
        if (own.empty() && group) {
          // A group: run what can run, and say what was left out.
          if (note) {
            note(std::string(e->name()) + " skipped: it needs inputs (--input or --input-file)");
          }
          continue;
        }
        if (own.empty()) {
          return Error{std::string(e->name()) + " needs inputs: --input or --input-file"};
        }
        for (const auto& in : own) plan.jobs.push_back({e.get(), Json(in)});
        break;
      }
    }
  }
  return plan;
}

}  // namespace vigil
