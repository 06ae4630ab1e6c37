// The report page's HTML (see html_page.h).
#include "report/html_page.h"

#include "report/report_assets.h"

namespace qb::report {

std::string html_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string script_json(const nlohmann::ordered_json& j) {
  // Invalid UTF-8 (a variant name from a hand-edited CSV) is replaced, never a thrown error.
  std::string s = j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  for (std::size_t i = s.find("</"); i != std::string::npos; i = s.find("</", i + 3)) s.replace(i, 2, "<\\/");
  return s;
}

std::string render_page(const nlohmann::ordered_json& content, const std::string& vega_js) {
  const std::string name = html_escape(content.value("dataset_name", ""));
  std::string h;
  h += "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += "<meta name=\"generator\" content=\"qbuild report\">\n";
  h += "<title>qbuild report — " + name + "</title>\n<style>\n" + std::string(kReportCss) + "</style>\n</head>\n<body>\n";
  h += R"(<h1 id="qb-title">qbuild report — )" + name + R"(</h1>
<div id="qb-meta" class="meta"></div>
<noscript><p class="gap">This report draws its table and charts with JavaScript; enable it to see them.</p></noscript>
<div id="qb-gaps"></div>
<h2>Results</h2>
<p class="note">Accuracy ± standard error (n) per benchmark; recovery relative to the base model; fidelity (KL, top-1,
McNemar) against the base model; size, quantize time and the eval's speed and peak memory. Click a header to sort;
the base model stays first. Each quantized variant links to its model card.</p>
<div class="table-wrap"><table id="results"><thead></thead><tbody></tbody></table></div>
<h2>Accuracy against size, fidelity and speed</h2>
<label>benchmark <select id="bench"></select></label>
<div class="charts"><div id="chart-size" class="chart"></div><div id="chart-kl" class="chart"></div><div id="chart-speed" class="chart"></div></div>
<p id="chart-notes" class="note"></p>
<h2>Quantization error per layer and module</h2>
<p class="note">From each quantized model's quant_report.json; one colour scale for all models.</p>
<label>metric <select id="metric"></select></label>
<div id="heatmaps"></div>
<h2>Build timeline</h2>
<p id="timeline-note" class="note"></p>
<div id="timeline" class="chart"></div>
<h2>What differs between two variants</h2>
<p class="note">The transform and recipe each variant was built from (their canonical, hashed form), compared as
<code>qbuild --dry-run</code> explains a changed recipe.</p>
<div id="recipe-pick"><label>from <select id="recipe-a"></select></label><label>to <select id="recipe-b"></select></label></div>
<ul id="recipe-diff"></ul>
)";
  h += "<script type=\"application/json\" id=\"qb-data\">" + script_json(content) + "</script>\n";
  h += "<script>\n" + vega_js + "\n</script>\n";
  h += "<script>\n" + std::string(kReportJs) + "\n</script>\n</body>\n</html>\n";
  return h;
}

}  // namespace qb::report
