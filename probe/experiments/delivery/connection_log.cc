#include "probe/experiments/delivery/connection_log.h"

#include <chrono>

namespace vigil {

double ConnectionLog::Now() const {
  return std::chrono::duration<double>(DeliveryClock::now() - zero_).count();
}

void ConnectionLog::Record(std::string_view end, std::string_view operation,
                           std::string_view address, const std::optional<std::string>& failure) {
  Json event = {{"t", Now()},
                {"end", end},
                {"operation", operation},
                {"address", address},
                {"failure", failure ? Json(*failure) : Json(nullptr)}};
  std::lock_guard lock(mutex_);
  events_.push_back(std::move(event));
}

Json ConnectionLog::ToJson() const {
  std::lock_guard lock(mutex_);
  Json events = Json::array();
  for (const Json& event : events_) events.push_back(event);
  return events;
}

}  // namespace vigil
