// Reading tokenizer.json (+ tokenizer_config.json) into a Tokenizer, with an error naming the
// file and the field for everything outside the supported subset (see tokenizer.h).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>

#include "steps/tokenizer/byte_level.h"
#include "steps/tokenizer/tokenizer.h"
#include "steps/tokenizer/tokenizer_impl.h"
#include "util/fs.h"

namespace qb::tok {

namespace {

using nlohmann::json;

std::string single_quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

Result<json> parse_json(std::string_view text) {
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    std::string what = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] " tag.
    if (const auto close = what.find("] "); what.rfind("[json.", 0) == 0 && close != std::string::npos)
      what = what.substr(close + 2);
    return invalid_argument("not valid JSON: " + what);
  }
}

// Optional boolean member; absent or null gives `fallback`.
Result<bool> get_bool(const json& obj, const char* key, bool fallback, const std::string& path) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return fallback;
  if (!it->is_boolean())
    return invalid_argument(path + "." + key + ": expected true or false, got " +
                            it->type_name());
  return it->get<bool>();
}

// Required string member.
Result<std::string> get_string(const json& obj, const char* key, const std::string& path) {
  auto it = obj.find(key);
  if (it == obj.end()) return invalid_argument(path + "." + key + ": missing");
  if (!it->is_string())
    return invalid_argument(path + "." + key + ": expected a string, got " + it->type_name());
  return it->get<std::string>();
}

Result<std::int32_t> get_id(const json& v, const std::string& path) {
  if (!v.is_number_integer() || v.get<std::int64_t>() < 0 ||
      v.get<std::int64_t>() >= std::numeric_limits<std::int32_t>::max()) {
    return invalid_argument(path + ": expected an id (an integer 0..2147483646), got " +
                            (v.is_number() ? v.dump() : std::string(v.type_name())));
  }
  return static_cast<std::int32_t>(v.get<std::int64_t>());
}

Status unsupported_type(const std::string& path, const json& obj, const char* supported) {
  const auto t = obj.find("type");
  const std::string name = t != obj.end() && t->is_string() ? t->get<std::string>() : "?";
  return invalid_argument(path + ": type " + single_quoted(name) + " is not supported (" + supported + ")");
}

Status parse_normalizer(const json& n, const std::string& path, NormalizerKind* kind) {
  if (n.is_null()) return Status::ok();
  if (!n.is_object()) return invalid_argument(path + ": expected an object or null");
  const auto type = n.value("type", std::string());
  if (type == "NFC") {
    *kind = NormalizerKind::kNfc;
    return Status::ok();
  }
  if (type == "Sequence") {
    auto it = n.find("normalizers");
    if (it == n.end() || !it->is_array())
      return invalid_argument(path + ".normalizers: expected an array");
    for (std::size_t i = 0; i < it->size(); ++i)
      QB_TRY(parse_normalizer((*it)[i], path + ".normalizers[" + std::to_string(i) + "]", kind));
    return Status::ok();
  }
  return unsupported_type(path, n, "only NFC, a Sequence of NFC, or null");
}

Result<Regex> parse_split(const json& s, const std::string& path) {
  auto pattern = s.find("pattern");
  if (pattern == s.end() || !pattern->is_object())
    return invalid_argument(path + ".pattern: expected {\"Regex\": ...} or {\"String\": ...}");
  std::string text;
  bool literal = false;
  if (auto r = pattern->find("Regex"); r != pattern->end() && r->is_string()) {
    text = r->get<std::string>();
  } else if (auto t = pattern->find("String"); t != pattern->end() && t->is_string()) {
    text = t->get<std::string>();
    literal = true;
  } else {
    return invalid_argument(path + ".pattern: expected {\"Regex\": ...} or {\"String\": ...}");
  }
  QB_ASSIGN_OR_RETURN(std::string behavior, get_string(s, "behavior", path));
  if (behavior != "Isolated")
    return invalid_argument(path + ".behavior " + single_quoted(behavior) +
                            " is not supported (only Isolated)");
  QB_ASSIGN_OR_RETURN(bool invert, get_bool(s, "invert", false, path));
  if (invert) return invalid_argument(path + ".invert: true is not supported");
  if (literal && text.empty()) return invalid_argument(path + ".pattern: empty String");
  QB_ASSIGN_OR_RETURN_CTX(Regex re, Regex::compile(text, literal), path + ".pattern");
  return re;
}

Result<PreTokenizer> parse_pre_tokenizer(const json& p) {
  const std::string path = "pre_tokenizer";
  if (p.is_null())
    return invalid_argument(path + ": null is not supported (byte-level BPE needs ByteLevel)");
  if (!p.is_object()) return invalid_argument(path + ": expected an object");
  std::vector<std::pair<const json*, std::string>> steps;
  const auto type = p.value("type", std::string());
  if (type == "Sequence") {
    auto it = p.find("pretokenizers");
    if (it == p.end() || !it->is_array())
      return invalid_argument(path + ".pretokenizers: expected an array");
    for (std::size_t i = 0; i < it->size(); ++i)
      steps.emplace_back(&(*it)[i], path + ".pretokenizers[" + std::to_string(i) + "]");
  } else {
    steps.emplace_back(&p, path);
  }
  std::vector<Regex> splits;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const auto& [step, where] = steps[i];
    if (!step->is_object()) return invalid_argument(where + ": expected an object");
    const auto t = step->value("type", std::string());
    if (t == "Split") {
      QB_ASSIGN_OR_RETURN(Regex re, parse_split(*step, where));
      splits.push_back(std::move(re));
    } else if (t == "ByteLevel") {
      if (i + 1 != steps.size())
        return invalid_argument(where + ": ByteLevel must be the last pre-tokenizer");
      QB_ASSIGN_OR_RETURN(bool prefix, get_bool(*step, "add_prefix_space", true, where));
      QB_ASSIGN_OR_RETURN(bool use_regex, get_bool(*step, "use_regex", true, where));
      std::optional<Regex> own;
      if (use_regex) {
        QB_ASSIGN_OR_RETURN(Regex re, Regex::compile(kGpt2SplitPattern));
        own = std::move(re);
      }
      return PreTokenizer(std::move(splits), prefix, std::move(own));
    } else {
      return unsupported_type(where, *step, "only Split and ByteLevel");
    }
  }
  return invalid_argument(path + ": no ByteLevel step (byte-level BPE needs one, last)");
}

Status parse_decoder(const json& d) {
  if (d.is_null()) return invalid_argument("decoder: null is not supported (only ByteLevel)");
  if (!d.is_object()) return invalid_argument("decoder: expected an object");
  if (d.value("type", std::string()) != "ByteLevel")
    return unsupported_type("decoder", d, "only ByteLevel");
  return Status::ok();
}

Result<MergeList> parse_merges(const json& merges) {
  if (!merges.is_array()) return invalid_argument("model.merges: expected an array");
  MergeList out;
  out.reserve(merges.size());
  for (std::size_t i = 0; i < merges.size(); ++i) {
    const json& m = merges[i];
    const std::string where = "model.merges[" + std::to_string(i) + "]";
    if (m.is_string()) {
      const std::string& s = m.get_ref<const std::string&>();
      const std::size_t space = s.find(' ');
      if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos)
        return invalid_argument(where + ": expected \"a b\" (two tokens, one space), got " +
                                single_quoted(s));
      out.emplace_back(s.substr(0, space), s.substr(space + 1));
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      out.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
    } else {
      return invalid_argument(where + ": expected \"a b\" or [\"a\", \"b\"], got " + m.dump());
    }
  }
  return out;
}

Status parse_model(const json& root, Tokenizer::Impl& impl, std::vector<std::string>& by_id) {
  auto mit = root.find("model");
  if (mit == root.end() || !mit->is_object()) return invalid_argument("model: missing");
  const json& model = *mit;
  auto tit = model.find("type");
  if (tit == model.end() || !tit->is_string()) return invalid_argument("model.type: missing");
  if (*tit != "BPE") return unsupported_type("model", model, "only BPE");

  if (auto d = model.find("dropout"); d != model.end() && !d->is_null()) {
    if (!d->is_number() || d->get<double>() != 0.0)
      return invalid_argument("model.dropout: " + d->dump() +
                              " is not supported (BPE dropout is random; use null)");
  }
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (auto v = model.find(key); v != model.end() && !v->is_null() && *v != "")
      return invalid_argument(std::string("model.") + key + ": " + v->dump() +
                              " is not supported (byte-level BPE uses none)");
  }
  QB_ASSIGN_OR_RETURN(bool byte_fallback, get_bool(model, "byte_fallback", false, "model"));
  if (byte_fallback) return invalid_argument("model.byte_fallback: true is not supported");
  BpeOptions options;
  QB_ASSIGN_OR_RETURN(options.ignore_merges, get_bool(model, "ignore_merges", false, "model"));

  auto vit = model.find("vocab");
  if (vit == model.end() || !vit->is_object())
    return invalid_argument("model.vocab: expected an object {token: id}");
  Vocab vocab;
  vocab.reserve(vit->size());
  for (auto it = vit->begin(); it != vit->end(); ++it) {
    QB_ASSIGN_OR_RETURN(std::int32_t id, get_id(it.value(), "model.vocab[" + single_quoted(it.key()) + "]"));
    if (static_cast<std::size_t>(id) >= by_id.size()) by_id.resize(id + 1);
    if (!by_id[id].empty())
      return invalid_argument("model.vocab: id " + std::to_string(id) + " is used by both " +
                              single_quoted(by_id[id]) + " and " + single_quoted(it.key()));
    by_id[id] = it.key();
    vocab.emplace(it.key(), id);
  }
  auto merges_it = model.find("merges");
  if (merges_it == model.end()) return invalid_argument("model.merges: missing");
  QB_ASSIGN_OR_RETURN(MergeList merges, parse_merges(*merges_it));
  QB_ASSIGN_OR_RETURN_CTX(impl.bpe, BpeModel::build(std::move(vocab), merges, options), "model");
  return Status::ok();
}

Status parse_added_tokens(const json& root, Tokenizer::Impl& impl,
                          std::vector<std::string>& by_id) {
  auto ait = root.find("added_tokens");
  if (ait == root.end() || ait->is_null()) return Status::ok();
  if (!ait->is_array()) return invalid_argument("added_tokens: expected an array");
  const Vocab& vocab = impl.bpe.vocab();
  for (std::size_t i = 0; i < ait->size(); ++i) {
    const json& a = (*ait)[i];
    std::string where = "added_tokens[" + std::to_string(i) + "]";
    if (!a.is_object()) return invalid_argument(where + ": expected an object");
    AddedToken t;
    QB_ASSIGN_OR_RETURN(t.content, get_string(a, "content", where));
    where += " (" + single_quoted(t.content) + ")";
    auto idit = a.find("id");
    if (idit == a.end()) return invalid_argument(where + ".id: missing");
    QB_ASSIGN_OR_RETURN(t.id, get_id(*idit, where + ".id"));
    QB_ASSIGN_OR_RETURN(t.special, get_bool(a, "special", false, where));
    QB_ASSIGN_OR_RETURN(t.single_word, get_bool(a, "single_word", false, where));
    QB_ASSIGN_OR_RETURN(t.lstrip, get_bool(a, "lstrip", false, where));
    QB_ASSIGN_OR_RETURN(t.rstrip, get_bool(a, "rstrip", false, where));
    QB_ASSIGN_OR_RETURN(t.normalized, get_bool(a, "normalized", !t.special, where));
    if (auto v = vocab.find(t.content); v != vocab.end() && v->second != t.id)
      return invalid_argument(where + ": id " + std::to_string(t.id) +
                              ", but the vocabulary gives it id " + std::to_string(v->second));
    if (static_cast<std::size_t>(t.id) < by_id.size() && !by_id[t.id].empty() &&
        by_id[t.id] != t.content)
      return invalid_argument(where + ": id " + std::to_string(t.id) + " already belongs to " +
                              single_quoted(by_id[t.id]));
    if (impl.added_by_content.count(t.content))
      return invalid_argument(where + ": listed twice");
    if (static_cast<std::size_t>(t.id) >= by_id.size()) by_id.resize(t.id + 1);
    by_id[t.id] = t.content;
    impl.added_by_content.emplace(t.content, t.id);
    impl.added.push_back(std::move(t));
  }
  std::sort(impl.added.begin(), impl.added.end(),
            [](const AddedToken& a, const AddedToken& b) { return a.id < b.id; });
  for (const AddedToken& t : impl.added) {
    if (t.normalized) {
      impl.normalized_matcher.add(t, normalize(impl.normalizer, t.content));
    } else {
      impl.raw_matcher.add(t, t.content);
    }
  }
  return Status::ok();
}

// eos_token / pad_token / bos_token: absent, null, "text" or {"content": "text", ...}.
Result<std::optional<std::int32_t>> config_token(const json& cfg, const char* key,
                                                 const Tokenizer::Impl& impl) {
  auto it = cfg.find(key);
  if (it == cfg.end() || it->is_null()) return std::optional<std::int32_t>();
  std::string content;
  if (it->is_string()) {
    content = it->get<std::string>();
  } else if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) {
    content = (*it)["content"].get<std::string>();
  } else {
    return invalid_argument(std::string(key) + ": expected a string or {\"content\": ...}, got " +
                            it->type_name());
  }
  if (auto v = impl.added_by_content.find(content); v != impl.added_by_content.end())
    return std::optional<std::int32_t>(v->second);
  if (auto v = impl.bpe.vocab().find(content); v != impl.bpe.vocab().end())
    return std::optional<std::int32_t>(v->second);
  return invalid_argument(std::string(key) + " " + single_quoted(content) + " is not in the vocabulary");
}

Status parse_config(std::string_view text, Tokenizer::Impl& impl) {
  QB_ASSIGN_OR_RETURN(json cfg, parse_json(text));
  if (!cfg.is_object())
    return invalid_argument(std::string("expected a JSON object, got ") + cfg.type_name());
  QB_ASSIGN_OR_RETURN(impl.eos, config_token(cfg, "eos_token", impl));
  QB_ASSIGN_OR_RETURN(impl.pad, config_token(cfg, "pad_token", impl));
  QB_ASSIGN_OR_RETURN(impl.bos, config_token(cfg, "bos_token", impl));
  return Status::ok();
}

Status parse_tokenizer(std::string_view text, Tokenizer::Impl& impl) {
  QB_ASSIGN_OR_RETURN(json root, parse_json(text));
  if (!root.is_object())
    return invalid_argument(std::string("expected a JSON object, got ") + root.type_name());
  for (const char* key : {"truncation", "padding"}) {
    if (auto it = root.find(key); it != root.end() && !it->is_null())
      return invalid_argument(std::string(key) + ": not supported (it changes the ids; use null)");
  }
  if (auto n = root.find("normalizer"); n != root.end())
    QB_TRY(parse_normalizer(*n, "normalizer", &impl.normalizer));
  auto p = root.find("pre_tokenizer");
  QB_ASSIGN_OR_RETURN(impl.pre_tokenizer, parse_pre_tokenizer(p == root.end() ? json() : *p));
  auto d = root.find("decoder");
  QB_TRY(parse_decoder(d == root.end() ? json() : *d));

  std::vector<std::string> by_id;
  QB_TRY(parse_model(root, impl, by_id));
  QB_TRY(parse_added_tokens(root, impl, by_id));

  const std::size_t n = by_id.size();
  impl.id_to_token = std::move(by_id);
  impl.kinds.assign(n, IdKind::kNone);
  impl.token_bytes.assign(n, std::string());
  for (const auto& [token, id] : impl.bpe.vocab()) impl.kinds[id] = IdKind::kVocab;
  for (const AddedToken& t : impl.added)
    impl.kinds[t.id] = t.special ? IdKind::kSpecial : IdKind::kAdded;
  for (std::size_t id = 0; id < n; ++id) {
    if (impl.kinds[id] == IdKind::kNone) continue;
    // As the ByteLevel decoder: symbols back to bytes, or the token's own UTF-8 when some code
    // point is outside the byte alphabet.
    auto bytes = symbols_to_bytes(impl.id_to_token[id]);
    impl.token_bytes[id] = bytes ? std::move(*bytes) : impl.id_to_token[id];
  }
  return Status::ok();
}

}  // namespace

Result<Tokenizer> Tokenizer::from_json(std::string_view tokenizer_json, const std::string& origin,
                                       std::string_view config_json,
                                       const std::string& config_origin) {
  auto impl = std::make_shared<Impl>();
  impl->origin = origin;
  QB_TRY_CTX(parse_tokenizer(tokenizer_json, *impl), "tokenizer " + single_quoted(origin));
  if (!config_json.empty())
    QB_TRY_CTX(parse_config(config_json, *impl), "tokenizer config " + single_quoted(config_origin));
  Tokenizer t;
  t.impl_ = std::move(impl);
  return t;
}

Result<Tokenizer> Tokenizer::load(const std::filesystem::path& path) {
  namespace stdfs = std::filesystem;
  std::error_code ec;
  const auto status = stdfs::status(path, ec);
  if (!stdfs::exists(status))
    return not_found("tokenizer " + single_quoted(path.string()) + ": no such file or directory");
  stdfs::path file = path, config;
  if (stdfs::is_directory(status)) {
    file = path / "tokenizer.json";
    if (!stdfs::exists(file, ec))
      return not_found("tokenizer " + single_quoted(path.string()) +
                       ": the directory has no tokenizer.json");
    config = path / "tokenizer_config.json";
  } else if (path.filename() == "tokenizer.json") {
    config = path.parent_path() / "tokenizer_config.json";
  }
  QB_ASSIGN_OR_RETURN_CTX(std::string text, fs::read_file(file), "tokenizer " + single_quoted(file.string()));
  std::string config_text;
  if (!config.empty() && stdfs::exists(config, ec)) {
    QB_ASSIGN_OR_RETURN_CTX(config_text, fs::read_file(config),
                            "tokenizer config " + single_quoted(config.string()));
    if (config_text.empty())
      return invalid_argument("tokenizer config " + single_quoted(config.string()) + ": empty file");
  }
  return from_json(text, file.string(), config_text, config.string());
}

}  // namespace qb::tok
