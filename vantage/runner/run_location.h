// RunLocation: where a run measures from. Geolocation takes round trips of its own
// (the helper's whoami, the resolver's), so it runs on a thread of its own beside
// the run's first measurements; whoever needs the answer first (the writer thread,
// before it stamps, scrubs or writes the first measurement) waits for it, and the
// run hears of it once.
// Thread-safe: Get may be called from any thread; the first call waits.
#pragma once

#include <functional>
#include <future>
#include <mutex>
#include <optional>

#include "vantage/geo/geolocate.h"

namespace vigil {

class RunLocation {
 public:
  using Locate = std::function<GeoInfo()>;

  /// Starts `locate` now; `located` runs once with its answer, on the thread of the
  /// first Get.
  RunLocation(Locate locate, std::function<void(const GeoInfo&)> located);

  /// Waits for geolocation to finish before the location goes away.
  ~RunLocation();

  RunLocation(const RunLocation&) = delete;
  RunLocation& operator=(const RunLocation&) = delete;

  /// Where the probe is; waits for geolocation the first time.
  const GeoInfo& Get();

 private:
  std::mutex mutex_;
  std::future<GeoInfo> answer_;
  std::optional<GeoInfo> known_;  // guarded by mutex_
  std::function<void(const GeoInfo&)> located_;
};

}  // namespace vigil
