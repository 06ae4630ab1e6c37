// Tokenizer throughput: load time, then encode MB/s over the golden corpus (first pass with an
// empty word cache, then warm passes), one long document, and decode MB/s. Single thread, timed
// in thread CPU time. Not a test: it prints numbers.
//
//   bench_tokenizer [--tokenizer DIR_OR_JSON] [--corpus corpus.jsonl] [--passes N]
//   (defaults: the repository's data/tokenizers/qwen3 and tests/golden/tokenizer/corpus.jsonl,
//   20 passes; --help lists them)
#include <time.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/common/bench_cli.h"
#include "steps/tokenizer/tokenizer.h"

namespace {

// CPU time of this thread: on a shared machine wall time also counts the time other processes
// held the core, CPU time does not.
struct Clock {
  using time_point = double;
  static double now() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
  }
};

double seconds_since(double t0) { return Clock::now() - t0; }

}  // namespace

int main(int argc, char** argv) {
  std::string tokenizer = QB_SOURCE_DIR "/data/tokenizers/qwen3";
  std::string corpus = QB_SOURCE_DIR "/tests/golden/tokenizer/corpus.jsonl";
  int passes = 20;
  qb::bench::App app{"Tokenizer load time and encode/decode throughput (MB/s, thread CPU time) over a corpus.",
               "bench_tokenizer"};
  app.add_option("--tokenizer", tokenizer, "tokenizer folder or tokenizer.json")->check(CLI::ExistingPath);
  app.add_option("--corpus", corpus, "JSON lines with a \"text\" field")->check(CLI::ExistingFile);
  app.add_option("--passes", passes, "warm encode / decode passes over the corpus")->check(qb::bench::at_least(1));
  if (auto rc = qb::bench::parse(app, argc, argv)) return *rc;

  auto t0 = Clock::now();
  auto tok = qb::tok::Tokenizer::load(tokenizer);
  if (!tok.is_ok()) {
    std::fprintf(stderr, "%s\n", tok.status().to_string().c_str());
    return 1;
  }
  std::printf("load %s: %.3f s (vocab %d)\n", tokenizer.c_str(), seconds_since(t0),
              tok->vocab_size());

  std::vector<std::string> texts;
  std::size_t bytes = 0;
  std::ifstream in(corpus);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line);
    if (!j.contains("text")) continue;  // hex lines are invalid UTF-8 on purpose
    texts.push_back(j["text"].get<std::string>());
    bytes += texts.back().size();
  }
  std::printf("corpus %s: %zu lines, %zu bytes\n", corpus.c_str(), texts.size(), bytes);

  std::size_t n_ids = 0;
  std::vector<std::vector<std::int32_t>> ids(texts.size());
  t0 = Clock::now();
  for (std::size_t i = 0; i < texts.size(); ++i) ids[i] = tok->encode(texts[i]);
  const double cold = seconds_since(t0);
  for (const auto& v : ids) n_ids += v.size();

  t0 = Clock::now();
  for (int p = 0; p < passes; ++p)
    for (std::size_t i = 0; i < texts.size(); ++i) ids[i] = tok->encode(texts[i]);
  const double warm = seconds_since(t0) / passes;

  std::size_t decoded = 0;
  t0 = Clock::now();
  for (int p = 0; p < passes; ++p)
    for (const auto& v : ids) decoded += tok->decode(v).size();
  const double dec = seconds_since(t0) / passes;

  // One long document: the corpus lines joined by newlines, repeated to ~1 MB, encoded in one
  // call (the shape of a dataset file rather than of many short prompts).
  std::string doc;
  while (doc.size() < 1000000)
    for (const std::string& t : texts) (doc += t) += '\n';
  t0 = Clock::now();
  const std::size_t doc_ids = tok->encode(doc).size();
  const double doc_s = seconds_since(t0);

  const double mb = static_cast<double>(bytes) / 1e6;
  std::printf("encode, first pass (empty word cache): %.1f MB/s  (%.2f M tokens/s)\n", mb / cold,
              static_cast<double>(n_ids) / cold / 1e6);
  std::printf("encode, warm (mean of %d passes):       %.1f MB/s  (%.2f M tokens/s)\n", passes,
              mb / warm, static_cast<double>(n_ids) / warm / 1e6);
  std::printf("decode (mean of %d passes):             %.1f MB/s of text\n", passes,
              static_cast<double>(decoded) / passes / 1e6 / dec);
  std::printf("encode, one %.1f MB document:          %.1f MB/s  (%.2f M tokens/s)\n",
              static_cast<double>(doc.size()) / 1e6, static_cast<double>(doc.size()) / 1e6 / doc_s,
              static_cast<double>(doc_ids) / doc_s / 1e6);
  std::printf("%zu tokens in the corpus (%.2f bytes/token), %zu in the document\n", n_ids,
              static_cast<double>(bytes) / n_ids, doc_ids);
  return 0;
}
