// The generate / logits tool functions, with a byte-level test tokenizer (ids 0..255 = bytes,
// 256.. = <|endoftext|>, <|im_start|>, <|im_end|>) and qwen3-tiny widened to its 259 ids.
#include <gtest/gtest.h>

#include "steps/model/tools.h"
#include "steps/tokenizer/byte_level.h"
#include "steps/tokenizer/chat_format.h"
#include "test_support.h"

namespace qb::model {
namespace {

using nlohmann::json;
using testing::load_or_die;
using testing::max_abs_diff;
using testing::model_dir;

tok::Tokenizer byte_tokenizer() {
  const json j = testing::byte_tokenizer_json();
  auto t = tok::Tokenizer::from_json(j.dump(), "byte-tokenizer");
  EXPECT_TRUE(t.is_ok()) << t.status().to_string();
  return std::move(t).value();
}

// qwen3-tiny with 259 ids; row 258 (<|im_end|>) of lm_head set from `im_end_row` when given.
Model widened(std::optional<at::Tensor> im_end_row = std::nullopt) {
  const Model base = load_or_die("qwen3-tiny");
  ModelConfig c = base.config();
  c.vocab_size = 259;
  ModelWeights w;
  at::manual_seed(3);
  w.embed_tokens = at::cat({base.embed_tokens(), at::randn({3, c.hidden_size})});
  at::Tensor head = at::cat({base.linear("lm_head")->effective_weight(at::kFloat),
                             at::randn({3, c.hidden_size}) * 0.01});
  if (im_end_row) head[258] = *im_end_row;
  w.lm_head = std::make_shared<DenseLinear>(head, std::nullopt);
  w.norm = base.norm_weight();
  for (int64_t i = 0; i < base.num_layers(); ++i) w.layers.push_back(base.layer(i).weights());
  auto m = Model::create(c, w);
  EXPECT_TRUE(m.is_ok()) << m.status().to_string();
  return std::move(m).value();
}

TEST(Tools, GenerateTextIsGreedyOnTheTokenizedPrompt) {
  const tok::Tokenizer t = byte_tokenizer();
  const Model m = widened();
  TextOptions opts;
  opts.max_new_tokens = 8;
  auto g = generate_text(m, t, "hello", opts);
  ASSERT_TRUE(g.is_ok()) << g.status().to_string();
  EXPECT_EQ(g->prompt_ids, (std::vector<int64_t>{104, 101, 108, 108, 111}));
  GenerateOptions direct;
  direct.max_new_tokens = 8;
  auto d = generate_greedy(m, {g->prompt_ids}, direct);
  ASSERT_TRUE(d.is_ok());
  EXPECT_EQ(g->output_ids, (*d)[0].tokens);
  const std::vector<int32_t> ids(g->output_ids.begin(), g->output_ids.end());
  EXPECT_EQ(g->text, t.decode(ids));
}

TEST(Tools, ChatFormatsTheTurnAndStopsAtImEnd) {
  const tok::Tokenizer t = byte_tokenizer();
  TextOptions opts;
  opts.chat = true;
  opts.max_new_tokens = 8;
  // Make <|im_end|> the certain first token: its lm_head row along the final hidden state.
  const Model probe = widened();
  std::vector<int64_t> prompt;
  for (int32_t id : t.encode(tok::format_chat_prompt("hi", {std::nullopt, false})))
    prompt.push_back(id);
  EXPECT_EQ(prompt.front(), 257);  // <|im_start|>
  auto [ids, valid] = testing::one_row(prompt);
  const at::Tensor h = probe.forward_hidden(ids, valid, nullptr)[0][-1];
  const Model m = widened(h / h.norm() * 100.0);
  auto g = generate_text(m, t, "hi", opts);
  ASSERT_TRUE(g.is_ok()) << g.status().to_string();
  EXPECT_EQ(g->prompt_ids, prompt);
  EXPECT_TRUE(g->output_ids.empty());
  EXPECT_EQ(g->text, "");
  EXPECT_EQ(g->finish, FinishReason::kStop);
  EXPECT_EQ(g->stop_token, 258);
  // Without chat, <|im_end|> is an ordinary token (it is not an eos id of qwen3-tiny).
  opts.chat = false;
  auto plain = generate_text(m, t, "hi", opts);
  ASSERT_TRUE(plain.is_ok());
  EXPECT_NE(plain->stop_token, 258);
}

TEST(Tools, PromptIdsOutsideTheModelVocabularyAreAnError) {
  const tok::Tokenizer t = byte_tokenizer();
  const Model m = load_or_die("qwen3-tiny");  // 256 ids: <|im_start|> (257) does not fit
  TextOptions opts;
  opts.chat = true;
  auto g = generate_text(m, t, "hi", opts);
  ASSERT_FALSE(g.is_ok());
  EXPECT_EQ(g.status().message(), "prompt tokenized by byte-tokenizer: sequence 0: id 257 at "
                                  "position 0 is outside the vocabulary [0, 256)");
}

TEST(Tools, RunLogitsReturnsLastPositionLogitsAsJson) {
  ToolModelOptions o;
  o.model_dir = model_dir("qwen3-tiny");
  const std::vector<std::vector<int64_t>> batch = {{1, 2, 3}, {4, 5}};
  auto j = run_logits(o, batch);
  ASSERT_TRUE(j.is_ok()) << j.status().to_string();
  ASSERT_EQ((*j)["logits_last"].size(), 2u);
  ASSERT_EQ((*j)["logits_last"][1].size(), 256u);
  auto expected = last_logits(load_or_die("qwen3-tiny"), batch);
  ASSERT_TRUE(expected.is_ok());
  EXPECT_LE(max_abs_diff(testing::json_tensor((*j)["logits_last"]), *expected), 0);
  o.device = "tpu";
  EXPECT_EQ(run_logits(o, batch).status().message(), "unknown device 'tpu' (cpu, cuda, cuda:N)");
  o.device = "cpu";
  o.dtype = "fp8";
  EXPECT_EQ(run_logits(o, batch).status().message(),
            "unsupported dtype 'fp8' (float32, bfloat16, float16)");
}

TEST(Tools, RunGenerateNeedsATokenizer) {
  ToolModelOptions o;
  o.model_dir = model_dir("qwen3-tiny");  // no tokenizer.json there
  auto g = run_generate(o, {}, "hi", {});
  ASSERT_FALSE(g.is_ok());
  EXPECT_NE(g.status().message().find("tokenizer.json"), std::string::npos)
      << g.status().message();
}

TEST(Tools, ParseDevice) {
  EXPECT_EQ(*parse_device("cpu"), at::Device(at::kCPU));
  EXPECT_EQ(parse_device("cuda:x").status().message(), "unknown device 'cuda:x' (cpu, cuda, cuda:N)");
  if (!at::hasCUDA()) {
    auto c = parse_device("cuda");
    EXPECT_EQ(c.status().code(), Code::kUnavailable);
    EXPECT_EQ(c.status().message(), "device 'cuda': this build or machine has no CUDA");
  }
  EXPECT_FALSE(parse_dtype_option("auto")->has_value());
  EXPECT_EQ(**parse_dtype_option("bf16"), at::kBFloat16);
}

}  // namespace
}  // namespace qb::model
