// report.js and report.css, compiled in (CMake generates their definitions from the files).
#pragma once

namespace qb::report {

extern const char kReportJs[];
extern const char kReportCss[];

}  // namespace qb::report
