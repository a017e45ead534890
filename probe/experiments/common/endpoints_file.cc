#include "probe/experiments/common/endpoints_file.h"

#include <arpa/inet.h>

#include "base/csv.h"
#include "base/whole_file.h"

namespace vigil {

namespace {

constexpr const char* kHeader[] = {"name",     "kind", "real",   "lab_ipv4",
                                   "lab_ipv6", "asn",  "as_org", "notes"};
constexpr size_t kColumns = std::size(kHeader);
constexpr size_t kMaxErrors = 20;

bool IsV4(const std::string& s) {
  in_addr a{};
  return inet_pton(AF_INET, s.c_str(), &a) == 1;
}

bool IsV6(const std::string& s) {
  in6_addr a{};
  return inet_pton(AF_INET6, s.c_str(), &a) == 1;
}

bool IsAsnNumber(const std::string& s) {
  if (s.empty() || s.size() > 10) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

Result<EndpointsFile> ParseEndpointsFile(std::string_view text, const std::string& path) {
  CsvText csv = ParseCsv(text);
  std::vector<std::string> errors;
  auto error = [&](int line, const std::string& field, const std::string& reason) {
    if (errors.size() < kMaxErrors) {
      errors.push_back(path + ":" + std::to_string(line) + ": " + field + ": " + reason);
    }
  };
  for (const auto& e : csv.errors) error(e.line, "field " + std::to_string(e.column), e.message);
  EndpointsFile out;
  if (csv.records.empty()) {
    error(1, "header", "the file is empty");
  } else {
    const auto& header = csv.records.front();
    bool ok = header.fields.size() == kColumns;
    for (size_t i = 0; ok && i < kColumns; ++i) ok = header.fields[i] == kHeader[i];
    if (!ok)
      error(header.line, "header", "expected name,kind,real,lab_ipv4,lab_ipv6,asn,as_org,notes");
  }
  for (size_t r = 1; r < csv.records.size(); ++r) {
    const CsvRecord& rec = csv.records[r];
    if (rec.fields.size() == 1 && rec.fields[0].empty()) continue;  // a blank line
    if (rec.fields.size() != kColumns) {
      error(rec.line, "row", "expected 8 fields, found " + std::to_string(rec.fields.size()));
      continue;
    }
    const std::string& kind = rec.fields[1];
    const std::string& real = rec.fields[2];
    const std::string& v4 = rec.fields[3];
    const std::string& v6 = rec.fields[4];
    const std::string& asn = rec.fields[5];
    if (kind != "ip" && kind != "host") {
      error(rec.line, "kind", "\"" + kind + "\" is neither ip nor host");
      continue;
    }
    if (!v4.empty() && !IsV4(v4)) {
      error(rec.line, "lab_ipv4", "\"" + v4 + "\" is not an IPv4 address");
      continue;
    }
    if (!v6.empty() && !IsV6(v6)) {
      error(rec.line, "lab_ipv6", "\"" + v6 + "\" is not an IPv6 address");
      continue;
    }
    if (!asn.empty() && !IsAsnNumber(asn)) {
      error(rec.line, "asn", "\"" + asn + "\" is not an AS number");
      continue;
    }
    if (kind == "ip") {
      if (IsV4(real) && !v4.empty()) {
        out.address_map[real] = v4;
      } else if (IsV6(real) && !v6.empty()) {
        out.address_map[real] = v6;
      } else {
        error(rec.line, "real",
              "\"" + real + "\" is not an IP literal with a lab address of its family");
        continue;
      }
    }
    if (!asn.empty()) {
      auto& list = out.asn_addresses["AS" + asn];
      if (!v4.empty()) list.push_back(v4);
      if (!v6.empty()) list.push_back(v6);
    }
  }
  if (!errors.empty()) {
    std::string joined;
    for (const auto& e : errors) joined += (joined.empty() ? "" : "\n") + e;
    return Error{joined};
  }
  return out;
}

Result<EndpointsFile> ReadEndpointsFile(const std::string& path) {
  auto text = ReadWholeFile(path);
  if (!text.ok()) return Error{text.error()};
  return ParseEndpointsFile(*text, path);
}

}  // namespace vigil
