// RunPlan: what one `vigil run` measures — the experiments a target names (one
// experiment, or a group such as im, websites, all) and a job per measurement, each
// experiment with the inputs its input policy asks for: none, the user's, its own
// defaults, or the URL test lists (global and the country's, by category). Planning
// reads files only (input files, test lists); it measures nothing.
// Plain values and pure functions; thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "probe/experiments/experiment.h"

namespace vigil {

class ExperimentRegistry;

/// One measurement to make: an experiment of the plan and its input (null: none).
struct Job {
  const Experiment* experiment = nullptr;
  Json input;
};

struct RunPlan {
  std::string target;                                    // as asked: "im", "whatsapp", ...
  std::vector<std::unique_ptr<Experiment>> experiments;  // owns what jobs point to
  std::vector<Job> jobs;
};

/// What the volunteer asked for (flags and config merged).
struct PlanRequest {
  std::string target;                   // an experiment or a group
  std::vector<std::string> inputs;      // --input, in order
  std::string input_file;               // one input a line, '#' comments; "" none
  std::vector<std::string> categories;  // test-list category codes; empty: all
  std::string country;                  // adds lists/<cc>.csv; "" none
  std::string data_dir;                 // testlists/
  /// Experiments the volunteer has not enabled (the delivery experiment without its
  /// acknowledgement), each with the reason: a group leaves them out with a note;
  /// named alone, they are refused with the reason.
  std::vector<std::pair<std::string, std::string>> not_enabled{};
};

/// Plans the run of `request.target` from `registry`. An experiment of a group that
/// needs inputs and has none is left out, and `note` says so; the error names the
/// target, the file or the experiment that makes the run impossible.
Result<RunPlan> PlanRun(const PlanRequest& request, const ExperimentRegistry& registry,
                        const std::function<void(const std::string&)>& note = {});

/// The inputs of an input file: one a line, blanks trimmed, '#' lines skipped.
Result<std::vector<std::string>> ReadInputFile(const std::string& path);

/// The URLs of DATA/lists/global.csv and of the country's list, filtered by category,
/// each once, in list order.
Result<std::vector<std::string>> TestListUrls(const std::string& data_dir,
                                              const std::string& country,
                                              const std::vector<std::string>& categories);

/// What per-host politeness counts a job against: the host of a URL input, else the
/// input itself, else the experiment (whose own steps are bounded inside it).
std::string PolitenessKey(const Job& job);

}  // namespace vigil
