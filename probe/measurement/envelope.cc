#include "probe/measurement/envelope.h"

#include <sys/utsname.h>

#include "base/utc_time.h"

namespace vigil {

const char* VigilVersion() { return "0.1.0"; }

Measurement NewMeasurement(const std::string& test_name, const std::string& test_version,
                           Json input) {
  Measurement m;
  const auto now = std::chrono::system_clock::now();
  m.measurement_start_time = FormatUtc(now, kUtcOoni);
  m.test_start_time = m.measurement_start_time;
  m.test_name = test_name;
  m.test_version = test_version;
  m.input = std::move(input);
  m.software_name = "vigil";
  m.software_version = VigilVersion();
  m.annotations["engine_name"] = "vigil";
  m.annotations["engine_version"] = VigilVersion();
  m.annotations["platform"] = "linux";
  utsname u{};
  if (uname(&u) == 0) m.annotations["architecture"] = u.machine;
  m.extensions = {
      {"dnst", 0}, {"httpt", 0}, {"netevents", 0}, {"tcpconnect", 0}, {"tlshandshake", 0}};
  return m;
}

}  // namespace vigil
