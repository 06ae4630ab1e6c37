// load_pipeline(): reads project.yaml and every stage config, then the checks that span files
// (unique names, unique output suffixes). See pipeline.h.
#include "config/pipeline.h"

#include <algorithm>
#include <exception>
#include <map>

#include <fmt/format.h>

#include "config/fields.h"
#include "config/names.h"
#include "config/parsers.h"
#include "config/sources.h"
#include "util/fs.h"
#include "util/dep_log.h"

namespace qb::config {
namespace {

namespace stdfs = std::filesystem;

// Config files directly inside `dir` (never in subfolders such as example/), by file name. A
// *.yaml entry that is not a regular file (a folder, a FIFO, a device, a dangling symlink or a
// symlink loop) is never opened — a FIFO would block — and is reported as a warning, since a
// config the user meant to add is missing from the build.
std::vector<std::string> config_files(const stdfs::path& dir, const std::string& display, Diagnostics& diags) {
  std::vector<std::string> names;
  std::error_code ec;
  fs::DependencyLog::note(dir);  // its listing is a build's input (runner/noop_memo.h)
  for (auto it = stdfs::directory_iterator(dir, ec); !ec && it != stdfs::directory_iterator();
       it.increment(ec)) {
    std::string ext = it->path().extension().string();
    if (ext != ".yaml" && ext != ".yml") continue;
    const std::string shown = display + "/" + it->path().filename().string();
    if (std::string why = not_a_regular_file(it->path()); !why.empty()) {
      diags.warning(SourceLoc{shown, 0, 0, 0}, "not loaded: it is " + why);
      continue;
    }
    names.push_back(it->path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Reads and parses one file; nullopt (with a diagnostic) when unreadable or malformed.
std::optional<Node> read_config(Diagnostics& diags, const stdfs::path& path,
                                const std::string& display) {
  fs::DependencyLog::note(path);
  auto text = fs::read_file(path);
  if (!text.is_ok()) {
    diags.error(SourceLoc{display, 0, 0, 0}, "cannot read: " + text.status().message());
    return std::nullopt;
  }
  return parse_yaml(display, *text, diags);
}

// Reports the second and later specs whose key(spec) repeats, with a note at the first.
template <typename Spec, typename KeyFn, typename MessageFn>
void check_unique(Diagnostics& diags, const std::vector<Spec>& specs, KeyFn key,
                  MessageFn message) {
  std::map<std::string, const Spec*> first;
  for (const Spec& s : specs) {
    std::optional<std::string> k = key(s);
    if (!k) continue;
    auto [it, inserted] = first.emplace(*k, &s);
    if (!inserted) {
      diags.error(s.loc, message(s, *it->second))
          .notes.push_back(Diagnostics::note(it->second->loc, "first defined here"));
    }
  }
}

ProjectSpec read_project(const stdfs::path& root, Diagnostics& diags, const std::string& dir) {
  std::string project_file = dir + "/project.yaml";
  FileContext pc{diags, project_file, root, project_file};
  std::error_code ec;
  fs::DependencyLog::note(root / project_file);  // absent counts too: adding one changes the build
  if (stdfs::exists(root / project_file, ec)) {
    if (auto node = read_config(diags, root / project_file, project_file)) return parse_project(pc, *node);
  }
  Node empty;
  return parse_project(pc, empty);
}

Result<Pipeline> load(const stdfs::path& root, Diagnostics& diags, const std::string& dir) {
  Pipeline p;
  std::error_code ec;
  fs::DependencyLog::note(root / dir);
  if (!stdfs::is_directory(root / dir, ec)) {
    diags.error(SourceLoc{dir, 0, 0, 0}, "pipeline folder does not exist");
    return invalid_argument(fmt::format("pipeline folder '{}' does not exist", dir));
  }

  std::string project_file = dir + "/project.yaml";
  p.project = read_project(root, diags, dir);

  auto each_file = [&](const std::string& stage, auto&& parse) {
    std::string stage_dir = dir + "/" + stage;
    for (const std::string& name : config_files(root / stage_dir, stage_dir, diags)) {
      std::string display = stage_dir + "/" + name;
      FileContext c{diags, display, root, project_file};
      if (auto node = read_config(diags, root / display, display)) parse(c, *node);
    }
  };
  each_file("1-trans", [&](FileContext& c, const Node& n) { p.trans.push_back(parse_trans(c, n, p.project)); });
  each_file("2-quant", [&](FileContext& c, const Node& n) { p.quant.push_back(parse_quant(c, n, p.project)); });
  each_file("3-eval", [&](FileContext& c, const Node& n) {
    p.evals.push_back(parse_eval(c, n, p.project));
  });

  auto by_name = [](const auto& s) -> std::optional<std::string> {
    if (s.name.empty()) return std::nullopt;
    return s.name;
  };
  auto dup_name = [&](const std::string& stage) {
    return [stage, dir](const auto& s, const auto&) {
      return fmt::format("duplicate name '{}' (names must be unique within {}/{})", s.name, dir,
                         stage);
    };
  };
  check_unique(diags, p.trans, by_name, dup_name("1-trans"));
  check_unique(diags, p.quant, by_name, dup_name("2-quant"));
  check_unique(
      diags, p.evals,
      [](const EvalSpec& e) -> std::optional<std::string> {
        if (e.dataset_name.empty()) return std::nullopt;
        return e.dataset_name;
      },
      [&](const EvalSpec& e, const EvalSpec&) {
        return fmt::format("duplicate dataset_name '{}' (it names results/{}.csv; it must be "
                           "unique within {}/3-eval)",
                           e.dataset_name, e.dataset_name, dir);
      });
  // Each eval copies predictions/<variant>/<dataset>.jsonl and reports/<variant>.json into its
  // work_dir: two evals sharing one would overwrite each other's files on every build. (Two with
  // one dataset_name already have their error.)
  std::map<std::string, const EvalSpec*> work_dirs;
  for (const EvalSpec& e : p.evals) {
    if (e.dataset_name.empty() || e.work_dir.empty()) continue;
    auto [it, inserted] = work_dirs.emplace(e.work_dir, &e);
    if (inserted || it->second->dataset_name == e.dataset_name) continue;
    diags.error(e.loc, fmt::format("output.work_dir '{}' is also the work_dir of '{}' (the default is "
                                   "'outputs'): the two evals would overwrite each other's predictions "
                                   "and reports; give each its own output.work_dir",
                                   e.work_dir, it->second->dataset_name))
        .notes.push_back(Diagnostics::note(it->second->loc, "first used here"));
  }
  // Model names are <input model folder><trans suffix><quant suffix>: two configs of a stage
  // with the same suffix (and input) would make two different models with one name.
  check_unique(
      diags, p.trans,
      [](const TransSpec& t) -> std::optional<std::string> {
        if (t.name.empty() || t.input_model.empty()) return std::nullopt;
        return t.input_model + '\0' + t.output_suffix.value_or("") + '\0' +
               (t.output_suffix ? "s" : "n");
      },
      [](const TransSpec& t, const TransSpec& first) {
        return fmt::format("'{}' makes the same model as '{}' (same input_model and "
                           "output_suffix)",
                           t.name, first.name);
      });
  check_unique(
      diags, p.quant,
      [](const QuantSpec& q) -> std::optional<std::string> {
        if (q.name.empty() || q.output_suffix.empty()) return std::nullopt;
        return q.output_suffix;
      },
      [](const QuantSpec& q, const QuantSpec& first) {
        return fmt::format("output_suffix '{}' is already used by '{}'", q.output_suffix,
                           first.name);
      });

  if (diags.has_errors()) {
    int n = diags.error_count();
    return invalid_argument(fmt::format("{} error{} in pipeline configs", n, n == 1 ? "" : "s"));
  }
  return p;
}

}  // namespace

std::string read_name(FileContext& c, MapReader& top, std::string_view key, SourceLoc& loc) {
  const Node* n = top.require(key);
  if (!n) return "";
  auto s = read_string(c.diags, *n, key);
  if (!s) return "";
  loc = n->loc;
  if (s->size() > kMaxNameBytes) {
    c.diags.error(n->loc, fmt::format("{} is {} bytes long; at most {} (it becomes part of file names)", key,
                                      s->size(), kMaxNameBytes));
    return "";
  }
  if (auto why = unsafe_name_reason(*s)) {
    c.diags.error(n->loc, fmt::format("unsafe {} '{}': {}", key, printable(*s), *why));
    return "";
  }
  return *s;
}

std::optional<std::string> read_suffix(FileContext& c, const Node& n) {
  auto s = read_string(c.diags, n, "output_suffix");
  if (s && s->size() > kMaxNameBytes) {
    c.diags.error(n.loc, fmt::format("output_suffix is {} bytes long; at most {} (it becomes part of file names)",
                                     s->size(), kMaxNameBytes));
  } else if (s) {
    if (auto why = unsafe_suffix_reason(*s))
      c.diags.error(n.loc, fmt::format("unsafe output_suffix '{}': {}", printable(*s), *why));
  }
  return s;
}

std::optional<std::vector<int>> read_gpu_ids(FileContext& c, const Node& list) {
  auto ids = read_int_list(c.diags, list, "devices");
  if (!ids) return std::nullopt;
  std::vector<int> out;
  for (std::size_t i = 0; i < ids->size(); ++i) {
    std::int64_t id = (*ids)[i];
    const SourceLoc& loc = list.items[i].loc;
    if (id < 0) {
      c.diags.error(loc, fmt::format("GPU id must not be negative, got {}", id));
    } else if (id >= spec::kMaxGpuId) {
      c.diags.error(loc, fmt::format("GPU id {} is out of range (at most {})", id, spec::kMaxGpuId - 1));
    } else if (std::find(out.begin(), out.end(), id) != out.end()) {
      c.diags.error(loc, fmt::format("duplicate GPU id {}", id));
    } else {
      out.push_back(static_cast<int>(id));
    }
  }
  return out;
}

std::string normalize_rel_path(const std::string& path) {
  std::string s = stdfs::path(path).lexically_normal().generic_string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

Result<QuantSpec> parse_quant_text(const std::filesystem::path& root, const std::string& display,
                                   const std::string& text, const ProjectSpec& project) {
  Diagnostics diags;
  auto node = parse_yaml(display, text, diags);
  QuantSpec spec;
  if (node) {
    FileContext c{diags, display, root, "project.yaml"};
    spec = parse_quant(c, *node, project);
  }
  if (diags.has_errors()) return invalid_argument(diags.render());
  return spec;
}

Result<ProjectSpec> load_project(const std::filesystem::path& project_root, Diagnostics& diags,
                                 const std::string& pipeline_dir) {
  std::string dir = normalize_rel_path(pipeline_dir);
  ProjectSpec p = read_project(project_root, diags, dir);
  if (diags.has_errors())
    return invalid_argument(fmt::format("{} error(s) in {}/project.yaml", diags.error_count(), dir));
  return p;
}

Result<Pipeline> load_pipeline(const std::filesystem::path& project_root, Diagnostics& diags,
                               const std::string& pipeline_dir) {
  std::string dir = normalize_rel_path(pipeline_dir);
  try {
    return load(project_root, diags, dir);
  } catch (const std::exception& e) {  // a bug, not bad input: keep it out of the caller's way
    diags.error(SourceLoc{dir, 0, 0, 0}, std::string("internal error: ") + e.what());
    return internal_error(std::string("loading pipeline: ") + e.what());
  }
}

}  // namespace qb::config
