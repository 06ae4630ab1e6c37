// Loading a pipeline folder: <pipeline_dir>/{project.yaml, 1-trans/, 2-quant/, 3-eval/}.
// Only *.yaml / *.yml files directly inside each stage folder are configs; subfolders (the
// `example/` templates) are never loaded. Every file is read and validated; all problems land
// in `diags` (sorted rendering: Diagnostics::render()), and the pipeline is returned only when
// there is no error at all. Warnings do not stop loading.
#pragma once

#include <filesystem>
#include <string>

#include "config/diagnostics.h"
#include "config/specs.h"
#include "util/status.h"

namespace qb::config {

inline constexpr const char* kDefaultPipelineDir = "pipline";

// `pipeline_dir` is relative to `project_root` and is how files are named in diagnostics
// ("pipline/2-quant/rtn.yaml"). Model and dataset paths in the configs are relative to
// `project_root`. Returns kInvalidArgument ("N errors in pipeline configs") when `diags` holds
// errors; never throws.
Result<Pipeline> load_pipeline(const std::filesystem::path& project_root, Diagnostics& diags,
                               const std::string& pipeline_dir = kDefaultPipelineDir);

// Only <pipeline_dir>/project.yaml (the defaults when it is absent), checked as load_pipeline()
// checks it: for the commands that need the cache folder but no configs (runs, verify).
Result<ProjectSpec> load_project(const std::filesystem::path& project_root, Diagnostics& diags,
                                 const std::string& pipeline_dir = kDefaultPipelineDir);

// One quant config from its text (e.g. a recipe written as JSON, which is YAML too), checked
// exactly as load_pipeline() checks pipline/2-quant/<file>: for tests and tools. `display` names
// the text in messages; the calibration source resolves against `root`. Errors:
// kInvalidArgument whose message is the rendered diagnostics.
Result<QuantSpec> parse_quant_text(const std::filesystem::path& root, const std::string& display,
                                   const std::string& text, const ProjectSpec& project = {});

}  // namespace qb::config
