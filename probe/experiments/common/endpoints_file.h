// The lab's endpoints file (tests/lab/endpoints.csv: name,kind,real,lab_ipv4,lab_ipv6,
// asn,as_org,notes) read as what an experiment needs: which real IP literals to
// contact at which stand-in address (kind "ip" rows), and which stand-in addresses
// belong to which ASN (every row), so that ASN-based checks hold in the lab.
// Pure functions; thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "probe/experiments/experiment.h"

namespace vigil {

struct EndpointsFile {
  AddressMap address_map;                                         // real literal → stand-in
  std::map<std::string, std::vector<std::string>> asn_addresses;  // "AS32934" → addresses
};

/// Parses the file's text; errors read "path:line: field: reason" and list every
/// problem found (at most 20).
Result<EndpointsFile> ParseEndpointsFile(std::string_view text, const std::string& path);

/// Reads and parses `path`.
Result<EndpointsFile> ReadEndpointsFile(const std::string& path);

}  // namespace vigil
