// Vega's Debian modules, wrapped and inlined (see vega_bundle.h).
#include "report/vega_bundle.h"

#include <cstdlib>

#include "util/fs.h"
#include "util/strings.h"

namespace qb::report {

namespace {

// Dependency order (each module's AMD dependencies come before it). vega-label places the
// scatter plots' point labels without overlaps.
constexpr const char* kModules[] = {"vega-util",      "vega-canvas",    "vega-time",       "vega-format",
                                    "vega-loader",    "vega-dataflow",  "vega-scale",      "vega-scenegraph",
                                    "vega-expression", "vega-event-selector", "vega-selection", "vega-statistics",
                                    "vega-functions", "vega-parser",    "vega-runtime",    "vega-view",
                                    "vega-transforms", "vega-encode",   "vega-view-transforms", "vega-label"};

// A one-module AMD `define` per wrapped file. vega-functions asks for "vega-selections" (the
// package's old name), which is vega-selection.
constexpr const char* kVegaLoaderJs = R"js(
var qbVegaModules = {};
function qbVegaModule(name, body) {
  function define(deps, factory) {
    var exports = {};
    var args = deps.map(function (d) {
      if (d === "exports") return exports;
      if (d === "vega-selections") d = "vega-selection";
      if (!(d in qbVegaModules)) throw new Error("Vega module " + name + " needs " + d + ", which is not loaded");
      return qbVegaModules[d];
    });
    factory.apply(null, args);
    qbVegaModules[name] = exports;
  }
  define.amd = {};
  body(define);
}
)js";

// What vega/index.js does with the modules: register the transforms, export parse and View.
constexpr const char* kVegaAssemblyJs = R"js(
var qbVega = (function (m) {
  Object.assign(m["vega-dataflow"].transforms, m["vega-transforms"], m["vega-view-transforms"], m["vega-encode"],
                m["vega-label"]);
  return {parse: m["vega-parser"].parse, View: m["vega-view"].View};
})(qbVegaModules);
)js";

// "</script" (any case) cannot appear inside a <script> element; "<\/" means the same in
// JavaScript strings and regular expressions.
void escape_script_end(std::string& s) {
  for (std::size_t i = s.find("</"); i != std::string::npos; i = s.find("</", i + 3)) {
    std::string next = s.substr(i + 2, 6);
    for (auto& c : next) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (next == "script") s.replace(i, 2, "<\\/");
  }
}

}  // namespace

std::filesystem::path vega_dir() {
  if (const char* d = std::getenv("QBUILD_VEGA_DIR"); d && *d) return d;
  return kDebianVegaDir;
}

Result<std::string> load_vega_bundle(const std::filesystem::path& dir) {
  std::string out = "/* Vega 5 (BSD-3-Clause, University of Washington Interactive Data Lab), the modules of Debian's "
                    "libjs-vega from " + dir.string() + ", inlined by qbuild. */\n";
  out += kVegaLoaderJs;
  for (const char* m : kModules) {
    const auto file = dir / (std::string(m) + ".min.js");
    std::error_code ec;
    if (!std::filesystem::exists(file, ec))
      return not_found("the charting library Vega is not installed: '" + file.string() +
                       "' does not exist (Debian/Ubuntu: apt-get install libjs-vega; scripts/setup.sh installs it; "
                       "or set QBUILD_VEGA_DIR to a folder with Vega 5's *.min.js modules)");
    QB_ASSIGN_OR_RETURN_CTX(std::string js, fs::read_file(file), "reading the charting library");
    // The source map is not inlined; its comment would only make developer tools look for it.
    if (auto at = js.rfind("//# sourceMappingURL="); at != std::string::npos) js.erase(at);
    escape_script_end(js);
    out += "qbVegaModule(\"" + std::string(m) + "\", function (define) {\n" + js + "\n});\n";
  }
  out += kVegaAssemblyJs;
  return out;
}

}  // namespace qb::report
