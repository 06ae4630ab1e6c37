#include "steps/model/device.h"

#include <string>

#include "steps/model/model_config.h"

namespace qb::model {

Result<at::Device> parse_device(std::string_view name) {
  const std::string s(name);
  if (s == "cpu") return at::Device(at::kCPU);
  if (s != "cuda" && s.rfind("cuda:", 0) != 0)
    return invalid_argument("unknown device '" + s + "' (cpu, cuda, cuda:N)");
  int64_t index = 0;
  if (s.size() > 5) {
    const std::string n = s.substr(5);
    if (n.empty() || n.size() > 3 || n.find_first_not_of("0123456789") != std::string::npos)
      return invalid_argument("unknown device '" + s + "' (cpu, cuda, cuda:N)");
    index = std::stoll(n);
  }
  if (!at::hasCUDA()) return unavailable("device '" + s + "': this build or machine has no CUDA");
  const int64_t count = static_cast<int64_t>(at::getNumGPUs());
  if (index >= count)
    return unavailable("device '" + s + "': only " + std::to_string(count) + " CUDA device(s)");
  return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index));
}

Result<std::optional<at::ScalarType>> parse_dtype_option(std::string_view name) {
  if (name.empty() || name == "auto") return std::optional<at::ScalarType>();
  QB_ASSIGN_OR_RETURN(at::ScalarType t, parse_dtype(std::string(name)));
  return std::optional<at::ScalarType>(t);
}

}  // namespace qb::model
