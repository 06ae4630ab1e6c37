// Model cards (see model_card.h).
#include "report/model_card.h"

#include <cmath>
#include <set>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "util/fs.h"
#include "util/strings.h"

namespace qb::report {

namespace {

namespace stdfs = std::filesystem;
using nlohmann::json;

void emit_yaml(YAML::Emitter& e, const json& j) {
  if (j.is_object()) {
    if (j.empty()) e << YAML::Flow;
    e << YAML::BeginMap;
    for (auto it = j.begin(); it != j.end(); ++it) {
      e << YAML::Key << it.key() << YAML::Value;
      emit_yaml(e, it.value());
    }
    e << YAML::EndMap;
  } else if (j.is_array()) {
    // Short lists of scalars inline ([lm_head]), as a person writes them.
    bool flat = j.size() <= 8;
    for (const auto& v : j) flat = flat && !v.is_structured();
    e << (flat ? YAML::Flow : YAML::Block) << YAML::BeginSeq;
    for (const auto& v : j) emit_yaml(e, v);
    e << YAML::EndSeq;
  } else if (j.is_string()) {
    e << j.get<std::string>();
  } else if (j.is_null()) {
    e << YAML::LowerNull << YAML::Null;
  } else if (j.is_boolean()) {
    e << j.get<bool>();
  } else {
    e << j.dump();  // numbers exactly as the canonical JSON has them
  }
}

std::string to_yaml(const json& j) {
  YAML::Emitter e;
  emit_yaml(e, j);
  return std::string(e.c_str()) + "\n";
}

// "W8A8", "W8A16", "W4A16", … from the recipe's config groups (the first group's weights and
// input activations), and the tags that go with it.
struct Scheme {
  std::string name;           // e.g. "W8A8"
  std::string description;    // e.g. "int8 weights (per-channel, symmetric) and int8 activations (per-token, dynamic)"
  std::set<std::string> tags;
};

std::string args_text(const json& a, const char* what) {
  const int bits = a.value("num_bits", 8);
  const std::string type = a.value("type", "int");
  std::string s = (type == "float" ? "fp" : type) + std::to_string(bits) + " " + what + " (" + a.value("strategy", "tensor");
  if (a.contains("group_size") && a["group_size"].is_number()) s += " " + a["group_size"].dump();
  s += a.value("symmetric", true) ? ", symmetric" : ", asymmetric";
  if (std::string(what) == "activations") s += a.value("dynamic", false) ? ", dynamic" : ", static";
  return s + ")";
}

Scheme scheme_of(const json& recipe) {
  Scheme s;
  const auto groups = recipe.value("config_groups", json::object());
  if (groups.empty()) return s;
  const auto& g = groups.begin().value();
  const auto w = g.value("weights", json());
  const auto a = g.value("input_activations", json());
  if (w.is_object()) {
    const int wb = w.value("num_bits", 8);
    const bool act = a.is_object();
    s.name = "W" + std::to_string(wb) + "A" + (act ? std::to_string(a.value("num_bits", 8)) : std::string("16"));
    s.description = args_text(w, "weights") + (act ? " and " + args_text(a, "activations") : ", activations unquantized");
    s.tags.insert(w.value("type", "int") == "float" ? "fp" + std::to_string(wb) : "int" + std::to_string(wb));
    std::string lower = s.name;
    for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    s.tags.insert(lower);
  }
  if (groups.size() > 1) s.description += fmt::format(" (first of {} config groups)", groups.size());
  return s;
}

std::string acc_text(const ResultsRow& row, const std::string& b) {
  Number a = cell(row, b + "_acc");
  if (!a.present) return "—";
  if (!a.finite()) return "NaN";
  std::string s = fmt::format("{:.3f}", a.value);
  if (Number e = cell(row, b + "_stderr"); e.finite()) s += fmt::format(" ± {:.3f}", e.value);
  if (Number n = cell(row, b + "_n"); n.finite()) s += fmt::format(" (n={:.0f})", n.value);
  return s;
}

std::string number_text(const ResultsRow& row, const std::string& c, const char* format) {
  Number v = cell(row, c);
  if (!v.present) return "";
  if (!v.finite()) return "NaN";
  return fmt::format(fmt::runtime(format), v.value);
}

std::string results_section(const CardInput& in) {
  std::string out;
  bool any = false;
  for (const auto* t : in.tables) {
    const ResultsRow* row = t->row(in.variant);
    if (!row) continue;
    any = true;
    const ResultsRow* base = t->base();
    out += "### " + t->name() + "\n\n";
    out += "| benchmark | base model" + (base ? " (" + base->text("variant") + ")" : std::string()) +
           " | this model | recovery |\n|---|---|---|---|\n";
    bool from_column = false;
    for (const auto& b : t->benchmarks()) {
      auto r = recovery(*t, *row, b, &from_column);
      out += "| " + b + " | " + (base ? acc_text(*base, b) : "—") + " | " + acc_text(*row, b) + " | " +
             (r ? fmt::format("{:.1f} %", 100 * *r) : "—") + " |\n";
    }
    out += "\nAccuracy ± standard error (n questions). Recovery: " +
           std::string(from_column ? "the score step's variant / base ratio" : "this model's accuracy / the base model's") +
           (base ? "" : " (the file has no base-model row: enable fidelity in the eval config)") + ".\n";
    std::vector<std::string> fid;
    if (auto kl = number_text(*row, "fidelity_kl", "{:.3g}"); !kl.empty()) {
      auto se = number_text(*row, "fidelity_kl_stderr", "{:.2g}");
      fid.push_back("KL divergence from the base model " + kl + (se.empty() ? "" : " ± " + se));
    }
    if (auto v = number_text(*row, "fidelity_top1", "{:.3f}"); !v.empty()) fid.push_back("top-1 agreement " + v);
    if (auto v = number_text(*row, "fidelity_mcnemar_p", "{:.3f}"); !v.empty()) fid.push_back("McNemar p " + v);
    if (!fid.empty()) out += "Fidelity (next-token distributions on the eval prompts): " + join(fid, ", ") + ".\n";
    std::vector<std::string> speed;
    if (auto v = number_text(*row, "prefill_tokens_per_s", "{:.0f}"); !v.empty()) speed.push_back("prefill " + v + " tokens/s");
    if (auto v = number_text(*row, "decode_tokens_per_s", "{:.0f}"); !v.empty()) speed.push_back("decode " + v + " tokens/s");
    if (auto v = number_text(*row, "peak_gpu_gib", "{:.2f}"); !v.empty()) speed.push_back("peak GPU memory " + v + " GiB");
    else if (auto m = number_text(*row, "peak_rss_gib", "{:.2f}"); !m.empty()) speed.push_back("peak memory " + m + " GiB (CPU)");
    if (!speed.empty())
      out += "Speed of the eval" + (row->text("generate_device").empty() ? std::string() : " on " + row->text("generate_device")) +
             " (qbuild's runtime, not vLLM's): " + join(speed, ", ") + ".\n";
    out += "\n";
  }
  if (!any) out += "No results yet: no results CSV has a row for this model.\n\n";
  return out;
}

}  // namespace

std::string base_model_id(const std::string& source_path) {
  stdfs::path p = stdfs::path(source_path).lexically_normal();
  std::vector<std::string> parts;
  for (const auto& c : p)
    if (!c.empty() && c != "/") parts.push_back(c.string());
  if (parts.size() == 4 && parts[0] == "data" && parts[1] == "models") return parts[2] + "/" + parts[3];
  return parts.empty() ? "" : parts.back();
}

std::string card_license(const stdfs::path& readme) {
  auto text = fs::read_file(readme);
  if (!text.is_ok() || !starts_with(*text, "---")) return "";
  auto end = text->find("\n---", 3);
  if (end == std::string::npos) return "";
  try {
    YAML::Node front = YAML::Load(text->substr(3, end - 3));
    if (front.IsMap() && front["license"] && front["license"].IsScalar()) return front["license"].as<std::string>();
  } catch (const YAML::Exception&) {  // a malformed card is no license
  }
  return "";
}

std::string render_model_card(const CardInput& in) {
  const ModelInfo& m = in.model;
  std::string base = base_model_id(m.source_path);
  if (base.empty())
    for (const auto* t : in.tables)
      if (t->base()) {
        base = t->base()->text("variant");
        break;
      }
  const Scheme scheme = scheme_of(m.recipe);
  const std::string modifier = m.recipe.value("modifier", "");
  std::set<std::string> tags = scheme.tags;
  tags.insert("qbuild");
  tags.insert("compressed-tensors");
  tags.insert("quantized");
  if (modifier == "GPTQModifier") tags.insert("gptq");
  if (!m.transform.is_null()) tags.insert("spinquant");

  std::string c = "---\n";
  if (!base.empty()) c += "base_model: " + base + "\nbase_model_relation: quantized\n";
  c += "library_name: transformers\npipeline_tag: text-generation\n";
  if (!in.source_license.empty()) c += "license: " + in.source_license + "\n";
  c += "tags:\n";
  for (const auto& t : tags) c += "- " + t + "\n";
  c += "---\n\n# " + in.variant + "\n\n";
  c += (base.empty() ? std::string("A model") : "`" + base + "`") + " quantized by qbuild " + in.qbuild_version + " with " +
       (modifier.empty() ? std::string("an unknown recipe") : "`" + modifier + "`") +
       (scheme.name.empty() ? "" : " to " + scheme.name + ": " + scheme.description) +
       (m.transform.is_null() ? "" : ", after SpinQuant rotations") +
       ". The checkpoint is in the compressed-tensors format that vLLM and transformers load.\n\n";

  c += "## Recipe\n\n";
  if (!m.transform.is_null()) c += "Transform (SpinQuant):\n\n```yaml\n" + to_yaml(m.transform) + "```\n\n";
  c += "Quantization" + (m.quant_config.empty() ? std::string() : " (from `" + m.quant_config + "`)") +
       ", every default spelled out — the exact form qbuild hashed into the model's key:\n\n```yaml\n" + to_yaml(m.recipe) +
       "```\n\n";

  c += "## Calibration data\n\n";
  if (m.calibration_input.is_null()) {
    c += "None: this recipe computes no activation statistics (weights only, or dynamic activation scales).\n\n";
  } else {
    const std::string path = m.calibration_input.value("path", "");
    const auto cal = m.recipe.value("calibration", json::object());
    c += (path.empty() ? "A file with content key `" + m.calibration_input.value("key", "") + "`"
                       : "`" + path + "`") +
         (cal.empty() ? std::string()
                      : fmt::format(": {} samples of {} tokens (seed {})", cal.value("num_samples", json()).dump(),
                                    cal.value("seq_len", json()).dump(), cal.value("seed", json()).dump())) +
         ".\n\n";
  }

  c += "## Results\n\n" + results_section(in);

  c += "## Use with vLLM\n\nFrom the qbuild project (or use the Hub id once this folder is uploaded):\n\n```sh\n";
  c += "vllm serve results/models/" + in.variant + "\n```\n\n```python\nfrom vllm import LLM, SamplingParams\n\n";
  c += "llm = LLM(model=\"results/models/" + in.variant + "\")\n";
  c += "out = llm.generate([\"The capital of France is\"], SamplingParams(max_tokens=32))\nprint(out[0].outputs[0].text)\n```\n\n";
  c += "## Use with transformers\n\n```python\n# pip install transformers compressed-tensors\n";
  c += "from transformers import AutoModelForCausalLM, AutoTokenizer\n\npath = \"results/models/" + in.variant + "\"\n";
  c += "tokenizer = AutoTokenizer.from_pretrained(path)\n";
  c += "model = AutoModelForCausalLM.from_pretrained(path, torch_dtype=\"auto\", device_map=\"auto\")\n";
  c += "inputs = tokenizer(\"The capital of France is\", return_tensors=\"pt\").to(model.device)\n";
  c += "print(tokenizer.decode(model.generate(**inputs, max_new_tokens=32)[0]))\n```\n\n";

  c += "## Provenance\n\n";
  c += "- model key `" + m.key + "` (qbuild's content key: the recipe, the code version and the inputs' keys)\n";
  if (!m.source_path.empty()) c += "- source model `" + m.source_path + "` (content key `" + m.source_key + "`)\n";
  if (m.quant_seconds)
    c += fmt::format("- quantized in {:.1f} s{}\n", *m.quant_seconds, m.quant_device.empty() ? "" : " on " + m.quant_device);
  c += "- this card was written by `qbuild report`; the files beside it link to the model in qbuild's store\n";
  return c;
}

Status write_if_changed(const stdfs::path& path, const std::string& text) {
  if (auto old = fs::read_file(path); old.is_ok() && *old == text) return Status::ok();
  return fs::write_file_atomic(path, text);
}

Result<stdfs::path> write_model_card(const stdfs::path& results_dir, const CardInput& in) {
  const std::string& v = in.variant;
  if (v.empty() || v == "." || v == ".." || v.find('/') != std::string::npos || v.find('\0') != std::string::npos)
    return invalid_argument("variant name '" + v + "' cannot be a folder name");
  const stdfs::path dir = results_dir / "models" / v;
  QB_TRY(fs::make_dirs(dir));
  std::error_code ec;
  std::set<std::string> want;
  for (const auto& f : in.model.files) {
    if (f == "README.md") continue;  // the card is ours
    want.insert(f);
    const stdfs::path link = dir / f;
    const stdfs::path target = (in.model.dir / f).lexically_normal().lexically_relative(link.parent_path().lexically_normal());
    if (stdfs::is_symlink(link, ec)) {
      if (stdfs::read_symlink(link, ec) == target) continue;
      stdfs::remove(link, ec);
    } else if (stdfs::exists(link, ec)) {
      return invalid_argument("'" + link.string() + "' exists and is not a link qbuild made; move it away");
    }
    QB_TRY(fs::make_dirs(link.parent_path()));
    stdfs::create_symlink(target, link, ec);
    if (ec) return io_error("linking '" + link.string() + "': " + ec.message());
  }
  // Links to files of an older build of this variant.
  std::vector<stdfs::path> stale;
  for (auto it = stdfs::recursive_directory_iterator(dir, ec); !ec && it != stdfs::recursive_directory_iterator();
       it.increment(ec)) {
    std::error_code e2;
    // (lexically: relative() would follow the link)
    if (it->is_symlink(e2) && !want.count(it->path().lexically_relative(dir).string())) stale.push_back(it->path());
  }
  for (const auto& p : stale) stdfs::remove(p, ec);
  const auto readme = dir / "README.md";
  const std::string text = render_model_card(in);
  QB_TRY(write_if_changed(readme, text));
  return readme;
}

}  // namespace qb::report
