// The run's judge: `vigil run` asks the analyzer's verdict engine (analysis/verdict),
// the same rules the collector's store and `vigil query` use, for the verdict of each
// finished measurement, so the progress line, the table and `vigil results` cannot
// disagree with them. The experiment's own summary keeps its evidence line.
// The judge is called from one thread at a time (the run's writer thread).
#pragma once

#include <functional>
#include <string>

#include "base/result.h"
#include "probe/experiments/experiment.h"

namespace vigil::cli {

using RunJudge = std::function<void(const std::string& line, RunSummary& summary)>;

/// A judge with the rules and fingerprints of `data_dir` (testlists/); an error names
/// the file at fault.
Result<RunJudge> MakeRunJudge(const std::string& data_dir);

}  // namespace vigil::cli
