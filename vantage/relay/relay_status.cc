#include "vantage/relay/relay_status.h"

namespace vigil::relay {

int HttpStatusOf(RelayStatus status) {
  switch (status) {
    case RelayStatus::kOk:
      return 200;
    case RelayStatus::kBadRequest:
      return 400;
    case RelayStatus::kUnauthorized:
      return 401;
    case RelayStatus::kNoSession:
      return 404;
    case RelayStatus::kTooLong:
      return 413;
    case RelayStatus::kTooMany:
      return 429;
    case RelayStatus::kBusy:
      return 503;
    case RelayStatus::kFull:
      return 507;
    case RelayStatus::kInternal:
      return 500;
  }
  return 500;
}

std::string_view ReasonOf(RelayStatus status) {
  switch (status) {
    case RelayStatus::kOk:
      return "ok";
    case RelayStatus::kBadRequest:
      return "bad_request";
    case RelayStatus::kUnauthorized:
      return "unauthorized";
    case RelayStatus::kNoSession:
      return "no_session";
    case RelayStatus::kTooLong:
      return "too_long";
    case RelayStatus::kTooMany:
      return "too_many";
    case RelayStatus::kBusy:
      return "busy";
    case RelayStatus::kFull:
      return "full";
    case RelayStatus::kInternal:
      return "internal";
  }
  return "internal";
}

}  // namespace vigil::relay
