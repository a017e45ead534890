#include "vantage/runner/run_location.h"

namespace vigil {

RunLocation::RunLocation(Locate locate, std::function<void(const GeoInfo&)> located)
    : answer_(std::async(std::launch::async, std::move(locate))), located_(std::move(located)) {}

RunLocation::~RunLocation() {
  if (answer_.valid()) answer_.wait();
}

const GeoInfo& RunLocation::Get() {
  std::lock_guard lock(mutex_);
  if (known_) return *known_;
  known_ = answer_.get();
  if (located_) located_(*known_);
  return *known_;
}

}  // namespace vigil
