// One report's content: the JSON object that the page's script (report.js) renders. It is
// computed here, in C++, from the results CSV (by column name), the index (step runs, artifact
// metadata) and the store (manifests, quantization reports), so the page only draws.
//
// Format (version 1; report.js reads it):
//   {"format": 1, "dataset_name", "csv" (the file, relative to the project), "as_of" (the CSV's mtime, ISO UTC),
//    "qbuild_version", "benchmarks": [name, …, "overall"], "recovery_from": "column"|"ratio",
//    "extra_columns": [CSV columns the report does not interpret, shown as they are],
//    "rows": [{"variant", "trans", "quant", "status", "base": bool, "line": CSV line,
//              "num": {numeric column: number|null}, "not_finite": [columns holding NaN/inf],
//              "text": {non-numeric column: text}, "recovery": {benchmark: ratio|null},
//              "size_bytes", "quant_seconds" (number|null), "quant_device",
//              "card": "models/<variant>/README.md"|null}],
//    "heatmaps": [{"variant", "metrics": […], "layers": […], "modules": […],
//                  "cells": [{"layer", "module", <metric>: value, …}]} | {"variant", "missing": why}],
//    "timeline": null | {"invocation", "runs": [{"lane", "kind", "name", "status", "start", "end"}]}
//                (seconds from the invocation's first start),
//    "recipes": {"variants": [name…], "params": {variant: {"transform", "recipe"}},
//                "diffs": {"<a>\t<b>": ["path: old → new", …]}},
//    "gaps": [what is missing, and why]}
// NaN and infinities cannot be JSON numbers: they are null in "num" and listed in "not_finite".
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "report/model_info.h"
#include "report/results_table.h"

namespace qb::report {

inline constexpr int kReportFormat = 1;

// `as_of`: when the CSV was written (the page's date; it carries no clock time of its own).
Result<nlohmann::ordered_json> gather_report(Sources& src, const ResultsTable& table, const std::string& dataset_name,
                                             const std::string& as_of);

// The quantization-error heatmap of one quant report: per decoder layer and module kind, the
// relative weight error and, where recorded, GPTQ's loss and the input statistics.
nlohmann::ordered_json heatmap_of(const std::string& variant, const nlohmann::json& quant_report);

// Lanes of the build timeline: a GPU step's device ("GPU 0"; with the host when runs come from
// several), CPU steps packed into as few lanes as overlap needs ("CPU 1", "CPU 2").
nlohmann::ordered_json timeline_of(const std::vector<store::RunRow>& runs);

}  // namespace qb::report
