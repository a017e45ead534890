#include "probe/geo/asn_database.h"

#include <maxminddb.h>

namespace vigil {

struct AsnDatabase::Impl {
  MMDB_s mmdb{};
  bool open = false;
};

AsnDatabase::AsnDatabase() : impl_(std::make_unique<Impl>()) {}

AsnDatabase::~AsnDatabase() {
  if (impl_->open) MMDB_close(&impl_->mmdb);
}

Result<std::shared_ptr<const AsnDatabase>> AsnDatabase::Open(const std::string& path) {
  std::shared_ptr<AsnDatabase> db(new AsnDatabase());
  const int status = MMDB_open(path.c_str(), MMDB_MODE_MMAP, &db->impl_->mmdb);
  if (status != MMDB_SUCCESS) {
    return Error{path + ": cannot open as a MaxMind DB: " + MMDB_strerror(status)};
  }
  db->impl_->open = true;
  return std::shared_ptr<const AsnDatabase>(std::move(db));
}

std::optional<AsnInfo> AsnDatabase::Lookup(std::string_view ip) const {
  const std::string text(ip);
  int gai_error = 0, mmdb_error = MMDB_SUCCESS;
  // MMDB_lookup_string only reads the database: safe from several threads.
  MMDB_lookup_result_s result =
      MMDB_lookup_string(const_cast<MMDB_s*>(&impl_->mmdb), text.c_str(), &gai_error, &mmdb_error);
  if (gai_error != 0 || mmdb_error != MMDB_SUCCESS || !result.found_entry) return std::nullopt;
  MMDB_entry_data_s data{};
  if (MMDB_get_value(&result.entry, &data, "autonomous_system_number", nullptr) != MMDB_SUCCESS ||
      !data.has_data || data.type != MMDB_DATA_TYPE_UINT32) {
    return std::nullopt;
  }
  AsnInfo info;
  info.number = data.uint32;
  if (MMDB_get_value(&result.entry, &data, "autonomous_system_organization", nullptr) ==
          MMDB_SUCCESS &&
      data.has_data && data.type == MMDB_DATA_TYPE_UTF8_STRING) {
    info.organization.assign(data.utf8_string, data.data_size);
  }
  return info;
}

std::optional<std::string> AsnDatabase::LookupCountry(std::string_view ip) const {
  const std::string text(ip);
  int gai_error = 0, mmdb_error = MMDB_SUCCESS;
  MMDB_lookup_result_s result =
      MMDB_lookup_string(const_cast<MMDB_s*>(&impl_->mmdb), text.c_str(), &gai_error, &mmdb_error);
  if (gai_error != 0 || mmdb_error != MMDB_SUCCESS || !result.found_entry) return std::nullopt;
  MMDB_entry_data_s data{};
  if (MMDB_get_value(&result.entry, &data, "country", "iso_code", nullptr) != MMDB_SUCCESS ||
      !data.has_data || data.type != MMDB_DATA_TYPE_UTF8_STRING || data.data_size != 2) {
    return std::nullopt;
  }
  return std::string(data.utf8_string, data.data_size);
}

}  // namespace vigil
