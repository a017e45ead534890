#include "probe/experiments/common/experiment_input.h"

namespace vigil {

Result<ExperimentInput> ParseExperimentInput(const Json& input) {
  ExperimentInput parsed;
  if (input.is_null()) return parsed;
  Json object = input;
  if (input.is_string()) {
    const std::string& text = input.get_ref<const std::string&>();
    if (text.empty() || text.front() != '{') {
      parsed.target = text;
      return parsed;
    }
    object = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (object.is_discarded()) return Error{"input starts with '{' but is not JSON"};
  }
  if (!object.is_object()) return Error{"input must be a string or an object"};
  auto it = object.find("input");
  if (it == object.end() || !it->is_string()) {
    return Error{"input object needs a string \"input\""};
  }
  parsed.target = it->get<std::string>();
  object.erase("input");
  parsed.options = std::move(object);
  return parsed;
}

Result<std::string> StringOption(const ExperimentInput& input, const std::string& key,
                                 const std::string& fallback) {
  auto it = input.options.find(key);
  if (it == input.options.end() || it->is_null()) return fallback;
  if (!it->is_string()) return Error{"option \"" + key + "\" must be a string"};
  return it->get<std::string>();
}

}  // namespace vigil
