// The df-000 envelope that every vigil measurement starts from: software and
// format versions, UTC start times, privacy-preserving defaults (probe_ip
// 127.0.0.1, AS0, ZZ until geolocation says otherwise). Pure functions.
#pragma once

#include <chrono>
#include <string>

#include "probe/measurement/measurement.h"

namespace vigil {

/// The version of vigil, as recorded in software_version and engine_version.
const char* VigilVersion();

/// A measurement of `test_name` on `input` (null Json when none), started now.
Measurement NewMeasurement(const std::string& test_name, const std::string& test_version,
                           Json input);

}  // namespace vigil
