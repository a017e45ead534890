// JSON conversion of the measurement model (measurement.h), in OONI's shapes. Parsing
// names the first bad field by its JSON path ("test_keys.queries[2].rcode: expected an
// integer, got string"); unknown keys go to `extra`. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "base/result.h"
#include "probe/measurement/measurement.h"

namespace vigil {

Json ToJson(const Measurement& m);
Json ToJson(const TestKeys& k);
Json ToJson(const DnsQuery& q);
Json ToJson(const TcpConnect& c);
Json ToJson(const TlsHandshake& h);
Json ToJson(const HttpTransaction& r);
Json ToJson(const NetworkEvent& e);

Result<Measurement> MeasurementFromJson(const Json& j);
/// Parses one JSON document (e.g. a JSONL line); syntax errors name the byte offset.
/// Documents nested deeper than 256 levels are refused, never recursed into.
Result<Measurement> ParseMeasurement(std::string_view text);

}  // namespace vigil
