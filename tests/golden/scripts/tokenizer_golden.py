#!/usr/bin/env python3
"""Golden fixtures for the C++ tokenizer (src/steps/tokenizer), from the reference packages.

Pinned: tokenizers 0.23.3, transformers 5.17.0 (checked at start; run with .venv-oracle).

Reads  tests/golden/tokenizer/corpus.jsonl (made by tokenizer_corpus.py) and the real Qwen3
       tokenizer in data/tokenizers/qwen3/ (checked against its SHA256SUMS).
Writes, under tests/golden/tokenizer/:
  expected.jsonl        one line per corpus line: Qwen3 ids (add_special_tokens=False), the ids
                        with special tokens treated as text (encode_special_tokens=True) when they
                        differ, and decode() with and without skip_special_tokens.
  token_decodes.jsonl   decode([id]) for every 97th id and every added token (lossy, as the
                        package returns str).
  expected_document.json  Qwen3 ids of all corpus lines joined by "\n" as one text.
  chat_expected.jsonl   Qwen3's chat template rendered by transformers' apply_chat_template
                        (add_generation_prompt=True) for single user turns and system + user, with
                        enable_thinking unset / True / False, and the ids of the rendering.
  gpt2_tiny/            a tiny byte-level BPE trained here, configured as GPT-2 (ByteLevel
                        pre-tokenizer with its own regex, no normalizer), tokenizer.json and
                        expected.jsonl.
  variants/             the same vocabulary with every other supported option: NFC in a Sequence,
                        String and Regex Split steps, ByteLevel add_prefix_space, ignore_merges,
                        merges as "a b" strings, added tokens with lstrip/rstrip/single_word/
                        normalized, a special token outside the byte alphabet, an added token that
                        is also a vocabulary symbol.
  nosplit/              ByteLevel alone without its regex (the whole text is one word).
Every fixture is regenerated deterministically (the output is compared across two runs).

Usage: .venv-oracle/bin/python tests/golden/scripts/tokenizer_golden.py   (from the repository root)
"""
import copy
import hashlib
import json
import os
import sys

import tokenizers
import transformers

PINNED = {"tokenizers": "0.23.3", "transformers": "5.17.0"}
for mod in (tokenizers, transformers):
    if mod.__version__ != PINNED[mod.__name__]:
        sys.exit(f"{mod.__name__} {mod.__version__} installed, {PINNED[mod.__name__]} pinned")

from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers  # noqa: E402
from transformers import AutoTokenizer  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
GOLD = os.path.join(ROOT, "tests", "golden", "tokenizer")
QWEN = os.path.join(ROOT, "data", "tokenizers", "qwen3")
LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+"
                  r"[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")


def write_jsonl(path, rows):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def corpus_text(line):
    if "hex" in line:
        return bytes.fromhex(line["hex"]).decode("utf-8", errors="replace")
    return line["text"]


def check_sha256():
    with open(os.path.join(QWEN, "SHA256SUMS")) as f:
        for entry in f:
            digest, name = entry.split()
            with open(os.path.join(QWEN, name), "rb") as g:
                if hashlib.sha256(g.read()).hexdigest() != digest:
                    sys.exit(f"{name}: sha256 differs from SHA256SUMS")


def encode_rows(tok, lines, with_text):
    """ids / ids_no_special / decode / decode_skip_special for each corpus line."""
    rows = []
    for line in lines:
        text = corpus_text(line)
        tok.encode_special_tokens = False
        ids = tok.encode(text, add_special_tokens=False).ids
        tok.encode_special_tokens = True
        plain = tok.encode(text, add_special_tokens=False).ids
        tok.encode_special_tokens = False
        row = {k: line[k] for k in ("tag", "text", "hex") if with_text and k in line}
        row["ids"] = ids
        if plain != ids:
            row["ids_no_special"] = plain
        row["decode"] = tok.decode(ids, skip_special_tokens=False)
        skip = tok.decode(ids, skip_special_tokens=True)
        if skip != row["decode"]:
            row["decode_skip_special"] = skip
        rows.append(row)
    return rows


def qwen_fixtures(corpus):
    tok = Tokenizer.from_file(os.path.join(QWEN, "tokenizer.json"))
    hf = AutoTokenizer.from_pretrained(QWEN)
    rows = encode_rows(tok, corpus, with_text=False)
    norm = tok.normalizer
    for line, row in zip(corpus, rows):
        text = corpus_text(line)
        # The two packages agree, and decode(encode(x)) is NFC(x): the fixture is self-consistent.
        assert hf.encode(text, add_special_tokens=False) == row["ids"], line
        assert row["decode"] == norm.normalize_str(text), line
    write_jsonl(os.path.join(GOLD, "expected.jsonl"), rows)

    # All lines as one document: merges across line ends, long inputs, the word cache reused.
    document = "\n".join(corpus_text(l) for l in corpus)
    with open(os.path.join(GOLD, "expected_document.json"), "w", encoding="utf-8") as f:
        json.dump({"ids": tok.encode(document, add_special_tokens=False).ids}, f)
        f.write("\n")

    ids = sorted(set(range(0, tok.get_vocab_size(with_added_tokens=False), 97)) |
                 {t for t in tok.get_added_tokens_decoder()})
    write_jsonl(os.path.join(GOLD, "token_decodes.jsonl"),
                [{"id": i, "token": tok.id_to_token(i),
                  "decode": tok.decode([i], skip_special_tokens=False)} for i in ids])

    chats = []
    users = [
        "What is 2+2?",
        "Hello",
        "",
        "Line one\nLine two\n\nLine four",
        "  leading and trailing spaces  ",
        "Tabs\tand\r\nCRLF",
        "Special tokens inside: <|im_start|>user <|im_end|> <|endoftext|> <think>x</think>",
        "Unicode: 你好 😀 👨‍👩‍👧 café e\u0301 Ω",
        "Quotes \"double\" 'single' and backslash \\ and {{braces}} {% raw %}",
        "The following are multiple choice questions (with answers) about anatomy.\n\n"
        "Which bone is the longest?\nA. Femur\nB. Tibia\nC. Humerus\nD. Fibula\nAnswer:",
        "Question: Tom has 3 apples and buys 5 more. How many apples does he have?\n"
        "Let's think step by step.",
        "<tool_response>\nresult\n</tool_response>",
        "ends with newline\n",
    ]
    systems = [None, "You are a helpful assistant.", "Answer with one letter.\nBe brief.", ""]
    for si, system in enumerate(systems):
        for ui, user in enumerate(users):
            if si > 0 and ui % 3 != 0:
                continue  # every user with no system; a third of them with each system
            for thinking in (None, True, False):
                messages = ([{"role": "system", "content": system}] if system is not None else [])
                messages.append({"role": "user", "content": user})
                kwargs = {} if thinking is None else {"enable_thinking": thinking}
                text = hf.apply_chat_template(messages, tokenize=False, add_generation_prompt=True,
                                              **kwargs)
                chats.append({"system": system, "user": user, "enable_thinking": thinking,
                              "text": text, "ids": tok.encode(text, add_special_tokens=False).ids})
    write_jsonl(os.path.join(GOLD, "chat_expected.jsonl"), chats)
    return len(rows), len(ids), len(chats)


def train_tiny(corpus):
    """A ~700-symbol byte-level BPE trained on the corpus' prose/code lines, GPT-2 style."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=700, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  special_tokens=[AddedToken("<|endoftext|>", special=True,
                                                             normalized=True)])
    texts = [corpus_text(l) for l in corpus if l["tag"] in ("prose", "contractions", "code", "mmlu",
                                                           "gsm8k", "numbers", "urls")]
    tok.train_from_iterator(texts * 3, trainer)
    return json.loads(tok.to_str())


def tiny_fixtures(corpus):
    base = train_tiny(corpus)
    if json.dumps(base) != json.dumps(train_tiny(corpus)):
        sys.exit("BPE training is not deterministic")
    base["post_processor"] = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                              "use_regex": True}
    vocab = base["model"]["vocab"]
    n = len(vocab)
    subset = corpus[::3]

    gpt2 = copy.deepcopy(base)

    variants = copy.deepcopy(base)
    variants["normalizer"] = {"type": "Sequence", "normalizers": [{"type": "NFC"}]}
    variants["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"String": "||"}, "behavior": "Isolated", "invert": False},
        {"type": "Split", "pattern": {"Regex": LLAMA3_PATTERN}, "behavior": "Isolated",
         "invert": False},
        {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}]}
    variants["model"]["ignore_merges"] = True
    variants["model"]["merges"] = [f"{a} {b}" for a, b in variants["model"]["merges"]]

    def added(content, i, special=False, lstrip=False, rstrip=False, single_word=False,
              normalized=False):
        return {"id": i, "content": content, "single_word": single_word, "lstrip": lstrip,
                "rstrip": rstrip, "normalized": normalized, "special": special}
    variants["added_tokens"] = [
        added("<|endoftext|>", 0, special=True),
        added("é", vocab["é"]),  # also a vocabulary symbol (byte 0xE9)
        added("[MASK]", n, special=True, lstrip=True, rstrip=True),
        added("<w>", n + 1, single_word=True),
        added("ñam", n + 2, normalized=True),
        added("<ｘ>", n + 3, special=True),
        added("Ġfoo", n + 4),
        added("<|a|>", n + 5, special=True),
        added("<|a|><|b|>", n + 6, special=True),
        added("Ω", n + 7, normalized=True),  # U+2126 normalizes to it
    ]
    variant_lines = [{"tag": "variants", "text": t} for t in [
        "x [MASK] y", "x[MASK]y", "x  \t[MASK]\n\n y", "[MASK][MASK]", " [MASK] [MASK] ",
        "<w> a<w> <w>b <w>, (<w>) <w>", "é<w>é", "ñam n\u0303am ÑAM", "Ω \u2126 ω x\u2126y",
        "<ｘ> x<ｘ>y", "a Ġfoo b Ġfoobar", "<|a|><|b|> <|a|> <|a|><|a|><|b|><|b|>",
        "a || b||c |||| d", "café", "hello world the quick brown fox", "1234567 12 3",
        "don't WON'T", "<|endoftext|>x<|endoftext|>", "é", "\u00e9t\u00e9 e\u0301te\u0301",
    ]]
    nosplit = copy.deepcopy(base)
    nosplit["pre_tokenizer"] = {"type": "ByteLevel", "add_prefix_space": False,
                                "trim_offsets": False, "use_regex": False}

    counts = {}
    for name, spec, lines in (("gpt2_tiny", gpt2, subset),
                              ("variants", variants, subset + variant_lines),
                              ("nosplit", nosplit, subset[:40])):
        text = json.dumps(spec, ensure_ascii=False, indent=1)
        tok = Tokenizer.from_str(text)
        for a in spec["added_tokens"]:
            assert tok.token_to_id(a["content"]) == a["id"], (name, a)
        d = os.path.join(GOLD, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "tokenizer.json"), "w", encoding="utf-8", newline="\n") as f:
            f.write(text + "\n")
        rows = encode_rows(tok, lines, with_text=True)
        write_jsonl(os.path.join(d, "expected.jsonl"), rows)
        counts[name] = len(rows)
    return counts


def main():
    check_sha256()
    with open(os.path.join(GOLD, "corpus.jsonl"), encoding="utf-8") as f:
        corpus = [json.loads(l) for l in f]
    n_lines, n_tokens, n_chats = qwen_fixtures(corpus)
    counts = tiny_fixtures(corpus)
    print(f"qwen3: {n_lines} corpus lines, {n_tokens} token decodes, {n_chats} chat renderings; "
          f"tiny fixtures: {counts}")


if __name__ == "__main__":
    main()
