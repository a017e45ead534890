#include "probe/net/trace.h"

namespace vigil {

void Trace::Event(std::string operation, double t0, int64_t transaction_id,
                  std::optional<std::string> address, std::optional<int64_t> num_bytes,
                  FailureString failure, std::optional<std::string> proto) {
  NetworkEvent e;
  e.operation = std::move(operation);
  e.address = std::move(address);
  e.num_bytes = num_bytes;
  e.failure = std::move(failure);
  e.proto = std::move(proto);
  e.timing = Span(t0, transaction_id);
  keys_.network_events.push_back(std::move(e));
}

}  // namespace vigil
