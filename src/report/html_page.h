// The report page: one self-contained HTML file — the style, the report's content as JSON, the
// charting library (vega_bundle.h) and the page's script (report.js), all inlined. It loads
// nothing when viewed: no network, no other file (model-card links aside).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace qb::report {

// `vega_js` is load_vega_bundle()'s text.
std::string render_page(const nlohmann::ordered_json& content, const std::string& vega_js);

// `<`, `>`, `&`, `"`, `'` as entities.
std::string html_escape(const std::string& s);

// JSON safe inside <script type="application/json">: "</" is written "<\/" (the same string).
std::string script_json(const nlohmann::ordered_json& j);

}  // namespace qb::report
