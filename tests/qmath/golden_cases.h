// A test suite over llm-compressor golden cases (tests/golden/scripts/quant_golden.py,
// fp8_golden.py): the tensors in <dir>qmath.safetensors and the cases in <dir>qmath.json
// ("cases": name -> {"kind", "args", tensor names...}), opened once per suite; `Suite::dir()`
// names the folder.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "steps/qmath/quant_args.h"
#include "steps/model_io/safetensors.h"

namespace qb::qmath::testing {

template <typename Suite>
class GoldenCases : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto r = model_io::SafetensorsReader::open(Suite::dir() + "qmath.safetensors");
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    reader_ = new model_io::SafetensorsReader(std::move(*r));
    std::ifstream f(Suite::dir() + "qmath.json");
    cases_ = new nlohmann::json(nlohmann::json::parse(f)["cases"]);
  }
  static void TearDownTestSuite() {
    delete reader_;
    delete cases_;
  }
  static at::Tensor t(const std::string& name) {
    auto r = reader_->load(name);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return r.is_ok() ? *r : at::Tensor();
  }
  // A case's "args" as the fixture script wrote them (quantization_args' fields; "type" and
  // "block_structure" only in the FP8 fixtures).
  static QuantArgs args(const nlohmann::json& j) {
    auto given = [&](const char* k) { return j.contains(k) && !j[k].is_null(); };
    QuantArgs a;
    a.num_bits = j["num_bits"];
    if (given("type")) a.type = *parse_quant_type(j["type"].get<std::string>());
    a.symmetric = j["symmetric"];
    a.strategy = *parse_strategy(j["strategy"].get<std::string>());
    if (given("group_size")) a.group_size = j["group_size"];
    if (given("block_structure"))
      a.block_structure = {j["block_structure"][0].get<int64_t>(), j["block_structure"][1].get<int64_t>()};
    a.dynamic = j["dynamic"];
    if (given("observer")) a.observer = *parse_observer(j["observer"].get<std::string>());
    if (given("actorder")) a.actorder = *parse_actorder(j["actorder"].get<std::string>());
    return a;
  }
  // The names of the cases of one kind ("rtn", "gptq", ...).
  static std::vector<std::string> names(const std::string& kind) {
    std::vector<std::string> v;
    for (auto& [k, c] : cases_->items())
      if (c["kind"] == kind) v.push_back(k);
    return v;
  }
  static inline model_io::SafetensorsReader* reader_ = nullptr;
  static inline nlohmann::json* cases_ = nullptr;
};

}  // namespace qb::qmath::testing
