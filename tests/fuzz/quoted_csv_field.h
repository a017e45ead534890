// QuotedCsvField: one field written as CSV, always quoted, a quote inside doubled. The
// fuzz targets of the CSV lists write back what they read with it and check that the
// text reads as the same rows. Header-only: each target is a program of its own.
#pragma once

#include <string>

namespace vigil::fuzz {

inline std::string QuotedCsvField(const std::string& field) {
  std::string out = "\"";
  for (char c : field) {
    out += c;
    if (c == '"') out += '"';
  }
  return out + "\"";
}

}  // namespace vigil::fuzz
