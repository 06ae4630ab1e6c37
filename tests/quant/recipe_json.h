// Typed recipes for the quant tests, written the way llm-compressor recipes are ({"modifier":
// "GPTQModifier", "scheme": "W8A8", "ignore": [...], "calibration": {...}}) and read by the
// config layer's parser (config::parse_quant_text): the one parser users' YAML goes through, so
// the tests quantize exactly what a config would give the step. Calibration settings get a
// generated text file that satisfies the config-time size checks (the tests pass their own
// calibration samples to the step). Smoothing stages go in "stages": [{"SmoothQuantModifier":
// {...}}, ...], written before the quantization modifier in the list form.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "config/pipeline.h"
#include "spec/quant_recipe.h"

namespace qb::quant {

inline Result<spec::QuantRecipe> recipe_from_json(const nlohmann::json& loose) {
  namespace stdfs = std::filesystem;
  nlohmann::json body = loose;
  const std::string modifier = body.value("modifier", "QuantizationModifier");
  body.erase("modifier");
  nlohmann::json yaml = {{"name", "t"}, {"output_suffix", "-t"}};
  if (body.contains("save_compressed")) {
    yaml["save_compressed"] = body["save_compressed"];
    body.erase("save_compressed");
  }
  // One folder per test process: ctest runs the quant tests in parallel processes, and a shared
  // file truncated by one while another reads it gave "calib.txt has 0 bytes" (CI, stop 24).
  const stdfs::path root = stdfs::temp_directory_path() / ("qb_recipe_json_" + std::to_string(::getpid()));
  if (body.contains("calibration")) {
    nlohmann::json cal = body["calibration"];
    body.erase("calibration");
    cal.erase("source_kind");
    stdfs::create_directories(root);
    {
      std::ofstream calib(root / "calib.txt", std::ios::binary | std::ios::trunc);
      calib << std::string(1 << 16, 'a');
      calib.close();
      if (!calib) return io_error("writing the test's calibration file '" + (root / "calib.txt").string() + "'");
    }
    cal["source"] = "calib.txt";
    yaml["calibration"] = cal;
  }
  if (body.contains("stages")) {
    nlohmann::json list = body["stages"];
    body.erase("stages");
    list.push_back({{modifier, body}});
    yaml["quant_modifiers"] = list;
  } else {
    yaml["quant_modifiers"] = {{modifier, body}};
  }
  QB_ASSIGN_OR_RETURN(config::QuantSpec q, config::parse_quant_text(root, "recipe.json", yaml.dump()));
  return q.recipe;
}

}  // namespace qb::quant
