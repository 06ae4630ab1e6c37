// The charting library of the report: Vega 5 from Debian's libjs-vega, read at report time
// from /usr/share/javascript/vega/ and inlined, so the HTML needs no network when it is viewed
// and qbuild's repository carries no copy of the library.
//
// Debian ships Vega as its separate modules (vega-util.min.js, vega-parser.min.js, …), not as
// the single vega.min.js bundle, and their UMD wrappers are broken for plain <script> globals
// (each module replaces the `vega` global and then reads its dependencies from the new, empty
// object). Their AMD branch is sound, so each module is wrapped in a call that hands it a
// one-module `define` resolving its dependencies by name (the 20-line loader in
// kVegaLoaderJs); the page then assembles what vega's own index.js does: the transforms
// registered with the dataflow, `parse` and `View`, as the global `qbVega`.
//
// QBUILD_VEGA_DIR names another folder holding the same files (tests use it to make the library
// missing).
#pragma once

#include <filesystem>
#include <string>

#include "util/status.h"

namespace qb::report {

inline constexpr const char* kDebianVegaDir = "/usr/share/javascript/vega";

// $QBUILD_VEGA_DIR, else the Debian path.
std::filesystem::path vega_dir();

// The inlined library: every module, the loader and the assembly, as one script's text (safe
// inside <script>: "</script" never appears). Code::kNotFound names the missing file and the
// Debian package when the library is not installed.
Result<std::string> load_vega_bundle(const std::filesystem::path& dir);

}  // namespace qb::report
