#include "util/json_parse.h"

namespace qb {

Result<nlohmann::json> parse_json_bounded(std::string_view text, const std::string& where, int max_depth) {
  bool too_deep = false;
  // Returning false for a container that starts too deep makes the parser skip it: the deep
  // value is never built, so nothing recursive ever walks it.
  nlohmann::json::parser_callback_t cb = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json&) {
    if ((event == nlohmann::json::parse_event_t::object_start || event == nlohmann::json::parse_event_t::array_start) &&
        depth >= max_depth) {
      too_deep = true;
      return false;
    }
    return true;
  };
  nlohmann::json j = nlohmann::json::parse(text.begin(), text.end(), cb, /*allow_exceptions=*/false);
  if (too_deep) return invalid_argument(where + ": nested deeper than " + std::to_string(max_depth) + " levels");
  if (j.is_discarded()) {
    // Again with exceptions, only for nlohmann's description of what is wrong (still bounded).
    std::string why = "not valid JSON";
    try {
      nlohmann::json again = nlohmann::json::parse(text.begin(), text.end(), cb);
      (void)again;
    } catch (const nlohmann::json::parse_error& e) {
      why = e.what();
    }
    return invalid_argument(where + ": " + why);
  }
  return j;
}

}  // namespace qb
