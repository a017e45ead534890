#include "probe/experiments/dns_injection/forged_address_pool.h"

#include <algorithm>
#include <filesystem>

#include "base/csv.h"
#include "base/host_port.h"
#include "base/whole_file.h"

namespace vigil {

std::string DnsFingerprintsPath(const std::string& data_dir) {
  return (data_dir.empty() ? std::string("testlists") : data_dir) +
         "/fingerprints/fingerprints_dns.csv";
}

Result<bool> ForgedAddressPool::AddFingerprints(std::string_view csv, const std::string& path) {
  const CsvText text = ParseCsv(csv);
  if (!text.errors.empty()) {
    const CsvSyntaxError& e = text.errors.front();
    return Error{path + ":" + std::to_string(e.line) + ": " + e.message};
  }
  if (text.records.empty()) return true;
  // Columns by the header's names, as the file's format allows more of them.
  const auto& header = text.records.front().fields;
  int location = -1, type = -1, pattern = -1;
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == "location_found") location = static_cast<int>(i);
    if (header[i] == "pattern_type") type = static_cast<int>(i);
    if (header[i] == "pattern") pattern = static_cast<int>(i);
  }
  if (location < 0 || type < 0 || pattern < 0) {
    return Error{path + ":1: the header lacks location_found, pattern_type or pattern"};
  }
  for (size_t r = 1; r < text.records.size(); ++r) {
    const auto& f = text.records[r].fields;
    const size_t need = static_cast<size_t>(std::max({location, type, pattern}));
    if (f.size() <= need) continue;  // a blank line or a short row: no pattern to take
    if (f[location] != "dns" || f[type] != "full" || !IsIpLiteral(f[pattern])) continue;
    if (auto added = prefixes_.Add(f[pattern]); !added.ok()) {
      return Error{path + ":" + std::to_string(text.records[r].line) + ": " + added.error()};
    }
  }
  return true;
}

Result<ForgedAddressPool> ForgedAddressPool::Load(const std::string& data_dir,
                                                  const std::vector<std::string>& files) {
  ForgedAddressPool pool;
  const std::string fingerprints = DnsFingerprintsPath(data_dir);
  std::error_code ec;
  if (std::filesystem::exists(fingerprints, ec)) {
    auto text = ReadWholeFile(fingerprints);
    if (!text.ok()) return Error{text.error()};
    if (auto added = pool.AddFingerprints(*text, fingerprints); !added.ok()) {
      return Error{added.error()};
    }
  }
  for (const auto& file : files) {
    if (auto added = pool.AddFile(file); !added.ok()) return Error{added.error()};
  }
  return pool;
}

}  // namespace vigil
