#include "analysis/verdict/summary.h"

namespace vigil::analysis {

Summary::Summary(const std::string& text) {
  if (text.empty()) return;
  thread_local simdjson::dom::parser parser;
  auto doc = parser.parse(text.data(), text.size());
  if (doc.error() != simdjson::SUCCESS) return;
  if (doc.value_unsafe().type() != simdjson::dom::element_type::OBJECT) return;
  root_ = doc.value_unsafe();
  ok_ = true;
}

}  // namespace vigil::analysis
