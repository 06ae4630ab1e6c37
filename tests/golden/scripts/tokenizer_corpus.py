#!/usr/bin/env python3
"""Writes tests/golden/tokenizer/corpus.jsonl: the text the tokenizer golden tests encode.

Pure standard library (no pinned packages): hand-written lines covering the tokenizer's edge cases
(CJK, emoji incl. ZWJ sequences and skin tones, combining characters and NFC/NFD pairs,
contractions in any case, whitespace runs, CR LF, numbers, code, URLs, special tokens inside text,
MMLU/GSM8K-like prompts, control characters, invalid UTF-8 given as hex), plus seeded random mixes
of fragments. Deterministic: running it twice gives the same file.

Each line is {"tag": str, "text": str} or, for byte strings that are not valid UTF-8,
{"tag": str, "hex": str}.

Characters assigned in Unicode 15.0 or later are left out on purpose: PCRE2 10.42 classifies them
by Unicode 14 while the `tokenizers` package's Oniguruma knows Unicode 16 (see
src/steps/tokenizer/regex.h).

Usage: python3 tests/golden/scripts/tokenizer_corpus.py   (from the repository root)
"""
import json
import os
import random

OUT = os.path.join(os.path.dirname(__file__), "..", "tokenizer", "corpus.jsonl")

LINES = []


def add(tag, *texts):
    for t in texts:
        LINES.append({"tag": tag, "text": t})


def add_hex(tag, *blobs):
    for b in blobs:
        LINES.append({"tag": tag, "hex": b.hex()})


add("empty", "", " ", "a", "\n", "\t", "  ", "\r\n")

add("prose",
    "Hello world",
    "Hello, world! How are you today?",
    "The quick brown fox jumps over the lazy dog.",
    "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG",
    "It was the best of times, it was the worst of times, it was the age of wisdom...",
    "Mr. O'Neil paid $3.50 for 2 coffees -- twice (yes, twice!) on 2023-11-05.",
    "She said: \"Don't go there.\" He replied: 'Why not?'",
    "e.g. i.e. etc. vs. a.m. p.m. U.S.A.",
    "Supercalifragilisticexpialidocious antidisestablishmentarianism",
    "camelCaseIdentifier snake_case_name SCREAMING_SNAKE kebab-case-name",
    "  leading spaces and trailing spaces   ",
    "tabs\tbetween\t\twords\t",
    "multiple\n\nnewlines\n\n\n\nhere",
    "windows\r\nline\r\nendings\r\n",
    "old mac\rline endings\r",
    "mixed \r\n\t \n  \t\r\n end",
    "trailing newline\n",
    "trailing spaces then newline   \n",
    "word\n  indented\n    more\n\tTabbed",
    )

add("contractions",
    "I'm you're he's she's it's we're they're I've you've we'll they'll I'd you'd",
    "I'M YOU'RE HE'S SHE'S IT'S WE'RE THEY'RE I'VE YOU'VE WE'LL THEY'LL I'D YOU'D",
    "i'M yOu'Re He'S sHe's iT'S wE'rE tHeY'lL i'Ve YoU'd",
    "can't won't don't isn't aren't wasn't CAN'T WON'T DON'T",
    "'s 't 're 've 'm 'll 'd 'S 'T 'RE 'VE 'M 'LL 'D",
    "x's x'S x'LL x'Ll x'lL x'D x'RE x'Ve",
    "rock 'n' roll, o'clock, ma'am, y'all, 'tis, '90s",
    "James' book and the Joneses' house",
    "it’s a curly apostrophe ’s ’ll",
    "'''triple quotes''' and ''double single''",
    "'ſ x'ſ long s (U+017F) after an apostrophe",
    "Kelvin \u212a and 'K 'k",
    )

add("whitespace",
    "a b", "a  b", "a   b", "a    b", "a" + " " * 17 + "b",
    " " * 40, "\t" * 9, "\n" * 7, " \n \n \n", "\n \n \n ",
    "x \t \t y", "x\u00a0y", "x\u00a0\u00a0y", "x \u00a0 y",
    "x\u3000y\u3000\u3000z", "x\u2003y\u2009z\u200az",
    "x\u2028y\u2029z", "x\u0085y", "x \u0085 y",
    "x\u180ey", "x \u180e y", "x\u180e\u180e y", "x\u180e\u180ey", "wow!\u180e\u180e end",
    "a!\u180e", "1\u180e\u180e2", "\u180e\u180e\u180e", "tab\t\u180e\u180e\tx",
    "x \u180ey", " \u180e", "\u180e ", "a \u180e\u180e b", "\n\u180e", "\u180e\n", "1 \u180e2",
    ". \u180e.", "\u3000\u180e", "  \u180e  ", "\u180e\u3000x", "\t\u180e\t", "\u180e\r\n",
    "x\u200by\u200cz\u200dw", "x\ufeffy", "\ufeffBOM at the start",
    "x\u000by\u000cz", "x\u001cy\u001dz\u001ey\u001f",
    "end with spaces     ", "end with tabs\t\t", "end with mixed \t \n",
    "   \n\n   leading whitespace block",
    " ".join(["word"] * 30),
    "indent:\n" + "\n".join("    " * k + "line" for k in range(6)),
    )

add("numbers",
    "0", "7", "42", "123", "1234", "12345", "1234567890", "12345678901234567890123456789",
    "3.14159265358979", "-273.15", "+1", "1,000,000", "1.000.000,50", "1e10 2.5e-3 6.02E+23",
    "0x1F 0b1010 0o755 0xDEADBEEF", "v1.2.3-rc.4+build.5", "192.168.0.1:8080",
    "2024-01-31T23:59:59Z", "12:34:56.789", "$1,234.56 €99,99 £5 ¥1000 ₹42",
    "50% 3/4 1/2 99.9th", "½ ¼ ¾ ² ³ ¹ ⁴", "Ⅰ Ⅱ Ⅻ ⅻ", "٠١٢٣٤٥٦٧٨٩ ۱۲۳", "१२३ ๑๒๓",
    "１２３ full-width digits ４５６", "①②③ ⑴⑵", "3rd 21st 2nd 4th 100th",
    "pi≈3.14, e≈2.718, √2≈1.414", "x^2 + 2x + 1 = 0 → x = -1",
    "A: 17 B: 23 C: 42 D: 108",
    )

add("cjk",
    "你好，世界！",
    "我爱北京天安门。今天天气很好，我们去公园散步吧。",
    "中华人民共和国成立于1949年10月1日。",
    "日本語のテキストです。ひらがな、カタカナ、漢字が混ざっています。",
    "東京は日本の首都です。Tokyo is the capital.",
    "한국어 텍스트입니다. 안녕하세요!",
    "ｶﾀｶﾅ half-width katakana ﾃｽﾄ",
    "「引用」『二重』【括弧】〈山〉《書》",
    "繁體中文：臺灣、香港、澳門。",
    "混合mixed文本text和123数字",
    "𠀀𠀁𠀂 CJK Extension B 𪚥 𩸽",
    "中文标点：，。；：？！“”‘’（）",
    )

add("scripts",
    "Привет, мир! Съешь же ещё этих мягких французских булок.",
    "Γειά σου Κόσμε! ΣΊΣΥΦΟΣ σίσυφος ς",
    "مرحبا بالعالم! هذا نص عربي.",
    "שלום עולם! זהו טקסט בעברית.",
    "नमस्ते दुनिया! यह हिंदी पाठ है।",
    "สวัสดีชาวโลก ภาษาไทย",
    "Xin chào thế giới! Tiếng Việt có nhiều dấu.",
    "Türkçe: İstanbul, ıışğü ÇÖŞĞÜ",
    "Deutsch: Straße, GROSS, Maß, ẞ",
    "Français: à la crème brûlée, où est l'hôtel? Ça va.",
    "Español: ¿Qué tal? ¡Muy bien! Año, niño.",
    "Polski: Zażółć gęślą jaźń",
    "ქართული ენა  Հայերեն  አማርኛ",
    "ᚠᚢᚦᚨᚱᚲ runes and 𐌰𐌱𐌲 gothic",
    "ﬁ ﬂ ﬀ ligatures and Ǆ ǅ ǆ digraphs",
    )

add("emoji",
    "😀", "😀😃😄😁", "Hello 👋 world 🌍!",
    "👍 👍🏻 👍🏼 👍🏽 👍🏾 👍🏿",
    "👨‍👩‍👧‍👦 family", "👩‍💻 technologist 🧑‍🚀", "🏳️‍🌈 🏴‍☠️",
    "🇺🇸🇬🇧🇯🇵🇩🇪", "1️⃣ 2️⃣ #️⃣ *️⃣", "❤️ ❤ ♥️ ☺️ ☺",
    "🧑🏽‍🤝‍🧑🏻 people holding hands",
    "🫠🫡🫢 melting saluting", "emoji🎉without🎊spaces",
    "✅ done ❌ failed ⚠️ warning",
    "(╯°□°)╯︵ ┻━┻ ¯\\_(ツ)_/¯",
    )

add("combining",
    "é", "e\u0301", "café", "cafe\u0301",
    "Å \u212b A\u030a", "ñ n\u0303", "ü u\u0308", "ḗ e\u0304\u0301",
    "Tiếng Việt", "Tie\u0302\u0301ng Vie\u0323\u0302t",
    "\u1112\u1161\u11ab\u1100\u1173\u11af", "한글",
    "a\u0301\u0302\u0303\u0304\u0305\u0306\u0307\u0308",
    "Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319\u0324\u031e\u0349\u035a"
    "\u032f\u031e\u0320\u034dA\u036b\u0357\u0334\u0362\u0335\u031c\u0330\u0354L\u0368\u0367"
    "\u0369\u0358\u0320G\u0311\u0357\u030e\u0305\u035b\u0341\u0334\u033b\u0348\u034d\u0354"
    "\u0339O\u0342\u030c\u030c\u0358\u0328\u0335\u0339\u033b\u031d\u0333",
    "\u0301 starts with a combining mark",
    "q\u0307\u0323 s\u0323\u0307 \u1e69",
    "\u0041\u030a\u0301 \u01fa",
    "\u00c5\u0328 \u0041\u0328\u030a",
    "ক্ষ ত্র বাংলা",
    "שָׁלוֹם with niqqud",
    "\u0915\u093c \u0958",
    "\u2126 ohm sign \u03a9 omega",
    "\u00bd \u2153 \ufb01",
    )

add("code",
    "def main():\n    print(\"Hello, world!\")\n    return 0\n",
    "for i in range(10):\n\tif i % 2 == 0:\n\t\tcontinue\n\tyield i ** 2",
    "class Foo(Bar):\n    def __init__(self, x: int = 3) -> None:\n        self._x = x  # comment\n",
    "import numpy as np\nx = np.zeros((3, 4), dtype=np.float32)\nprint(x.shape)",
    "#include <iostream>\nint main() {\n  std::cout << \"hi\" << std::endl;\n  return 0;\n}\n",
    "template <typename T>\nauto f(const std::vector<T>& v) -> decltype(v[0]) { return v.at(0); }",
    "if (a != b && c <= d || !e) { x += 1; y -= 2; z *= 3; w /= 4; } // done",
    "{\"name\": \"qbuild\", \"version\": \"0.1.0\", \"deps\": [\"pcre2\", \"utf8proc\"], \"ok\": true}",
    "{\n  \"key\": [1, 2.5, null, false],\n  \"nested\": {\"a\": \"b\"}\n}",
    "SELECT id, name FROM users WHERE age >= 18 ORDER BY name DESC LIMIT 10;",
    "$ ls -la /usr/local/bin | grep -E '^d' && echo \"done\" > /dev/null 2>&1",
    "<div class=\"container\"><p>Hello &amp; welcome</p><br/></div>",
    "fn main() { let v: Vec<u8> = vec![1, 2, 3]; println!(\"{:?}\", v); }",
    "regex: ^(?:[a-z0-9!#$%&'*+/=?^_`{|}~-]+)@(?:[a-z0-9-]+\\.)+[a-z]{2,}$",
    "\\begin{equation} E = mc^2 \\quad \\int_0^\\infty e^{-x^2} dx = \\frac{\\sqrt{\\pi}}{2} \\end{equation}",
    "| col1 | col2 |\n|------|------|\n| a    | b    |",
    "```python\nprint('x')\n```",
    "    return x;;\n}}\n]]]))",
    "a==b!=c<=d>=e->f=>g::h...i",
    "/* block comment */ // line comment # hash comment -- sql comment",
    )

add("urls",
    "https://www.example.com/path/to/page?query=value&other=123#section",
    "http://localhost:8080/api/v1/users/42",
    "Visit https://github.com/huggingface/tokenizers for details.",
    "email me at john.doe+filter@example.co.uk or admin@localhost",
    "file:///home/user/Documents/report%20final.pdf",
    "C:\\Program Files\\App\\bin\\app.exe --flag=value",
    "/usr/lib/x86_64-linux-gnu/libpcre2-8.so.0",
    "ftp://user:pass@ftp.example.org:21/pub/file.tar.gz",
    "@username #hashtag $TICKER %PERCENT ^caret &amp *star",
    )

add("special",
    "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<think>", "</think>",
    "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n",
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n"
    "<|im_start|>assistant\n<think>\n\n</think>\n\n4<|im_end|>",
    "text<|endoftext|>more text",
    "text <|endoftext|> more text",
    "<|endoftext|><|endoftext|><|endoftext|>",
    "<think>reasoning here</think>answer",
    "<|im_start|", "<|im_start", "|im_start|>", "<<|im_end|>>", "<|im_end|><|im_end|>|>",
    "<|IM_START|> case differs", "< |im_start| >", "<|im_start|><|im_end|>",
    "<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call>",
    "<|fim_prefix|>def f():<|fim_suffix|>\n<|fim_middle|>",
    "<|vision_start|><|image_pad|><|vision_end|>",
    "prefix<|im_start|>suffix", "x<think>y</think>z",
    "<|endoftext|> leading special", "trailing special<|endoftext|>",
    "emoji😀<|im_end|>😀", "中文<|im_start|>中文",
    "<|object_ref_start|>the cat<|object_ref_end|><|box_start|>(1,2),(3,4)<|box_end|>",
    "<think></think>", "</think><think>", "<thinking>not a token</thinking>",
    "<|repo_name|>qbuild<|file_sep|>src/main.cc",
    )

add("mmlu",
    "The following are multiple choice questions (with answers) about abstract algebra.\n\n"
    "Find all c in Z_3 such that Z_3[x]/(x^2 + c) is a field.\nA. 0\nB. 1\nC. 2\nD. 3\nAnswer:",
    "The following are multiple choice questions (with answers) about high school biology.\n\n"
    "Which of the following is NOT a function of the cell membrane?\n"
    "A. Transport of materials\nB. Cell signaling\nC. Protein synthesis\nD. Cell adhesion\nAnswer: C",
    "Question: Which planet is known as the Red Planet?\nChoices:\n(A) Venus\n(B) Mars\n"
    "(C) Jupiter\n(D) Saturn\nAnswer: (B)",
    "Answer the following multiple choice question. The last line of your response should be of "
    "the following format: 'ANSWER: $LETTER' (without quotes) where LETTER is one of ABCD.",
    "A 45-year-old man presents with chest pain radiating to the left arm. ECG shows ST elevation "
    "in leads II, III, and aVF. Which artery is most likely occluded?\nA. LAD\nB. RCA\nC. LCx\nD. LMCA",
    "Statement 1 | Every element of a group generates a cyclic subgroup of the group. "
    "Statement 2 | The symmetric group S_10 has 10 elements.\nA. True, True\nB. False, False",
    )

add("gsm8k",
    "Question: Natalia sold clips to 48 of her friends in April, and then she sold half as many "
    "clips in May. How many clips did Natalia sell altogether in April and May?\n"
    "Let's think step by step.\nAnswer: Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n"
    "Natalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.\n#### 72",
    "Question: Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of "
    "babysitting. How much did she earn?\nAnswer: Weng earns 12/60 = $<<12/60=0.2>>0.2 per minute.\n"
    "Working 50 minutes, she earned 0.2 x 50 = $<<0.2*50=10>>10.\n#### 10",
    "Q: A robe takes 2 bolts of blue fiber and half that much white fiber. How many bolts in total "
    "does it take?\nA: It takes 2/2=1 bolt of white fiber. So the total is 2+1=3. The answer is 3.",
    "Solve: 3x + 7 = 22. Subtract 7: 3x = 15. Divide by 3: x = 5. Final answer: \\boxed{5}",
    "Janet’s ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes "
    "muffins for her friends every day with four. She sells the remainder at the farmers' market "
    "daily for $2 per fresh duck egg.",
    )

add("edge",
    "\x00", "a\x00b", "\x00\x00\x00", "\x01\x02\x03\x1b[31mred\x1b[0m\x7f",
    "\ufffd replacement char \ufffd\ufffd", "\ue000\uf8ff private use", "\uffff\ufffe nonchars",
    "\U0010ffff \U000f0000 planes 15-16", "\u202eRTL override\u202c \u200fRLM\u200e LRM",
    "variation\ufe0f selector\ufe0e", "\u00ad soft\u00adhyphen", "\u2060word\u2060joiner",
    "a" * 300, "ab" * 150, "9" * 120, "!" * 80, "=" * 100, "-" * 64 + "\n" + "=" * 64,
    "." * 50 + "?" * 10, "ha" * 40 + "!", "\U0001f600" * 20, "中" * 60, " " * 300 + "x",
    "\n" * 50 + "x", "\t \n" * 20, "a\u0301" * 40, "x" + "\u0300" * 30,
    "…—–‐‑‒―•·°±×÷≠≤≥∞∑∏√∫∂∇∈∉∪∩⊂⊃",
    "ＡＢＣ ａｂｃ full-width latin ！？",
    "  ", "\u3000", "\u00a0", "\u180e", "\u0085",
    "💩" * 3 + "\u200d" * 2, "\u200d\u200d\u200d", "\U0001f3fb alone skin tone",
    "#" * 10 + " Title " + "#" * 10, "********", "~~~~~", "____init____",
    )

add_hex("invalid_utf8",
        b"\xff", b"\xfe\xff", b"\xc3", b"abc\x80def", b"\xc0\xaf", b"\xe0\x80\xaf",
        b"\xed\xa0\x80", b"\xed\xbf\xbf x", b"\xf4\x90\x80\x80", b"\xf5\x80", b"\xe2\x82",
        b"end truncated \xf0\x9f\x98", b"\xf0\x9f\x98\x80\xf0\x9f", b"a\xe4\xb8b\xe4\xb8\xadc",
        b"\x80\x81\x82\x83 continuation bytes", b"caf\xe9 latin-1", b"<|im_start|>\xffuser",
        b"\xc3\x28 \xa0\xa1 \xe2\x28\xa1 \xe2\x82\x28 \xf0\x28\x8c\xbc")

# Seeded random mixes of fragments, to reach combinations the hand-written lines miss.
FRAGMENTS = [
    "the", "The", " of", "and", "I'm", "YOU'LL", "x's", "42", "3.14", "1000000", " ", "  ", "\t",
    "\n", "\n\n", "\r\n", "中文", "日本語", "한국어", "😀", "👍🏽", "👨‍👩‍👧", "é", "e\u0301", "ñ",
    "<|im_start|>", "<|im_end|>", "<think>", "</think>", "<|endoftext|>", "(", ")", "{", "}",
    "->", "::", "==", "!", "?", "...", "—", "https://x.org/a?b=c", "def", "return", "int",
    "std::vector<int>", "\"quoted\"", "'single'", "#", "@", "$", "%", "Ω", "ß", "İ", "ς", "¿",
    "\u00a0", "\u3000", "\u200b", "\u0301", "١٢٣", "ä", "Ä", "A\u0308", "ﬁ",
]
rng = random.Random(20240531)
for i in range(150):
    n = rng.randint(1, 24)
    LINES.append({"tag": "random", "text": "".join(rng.choice(FRAGMENTS) for _ in range(n))})

with open(OUT, "w", encoding="utf-8", newline="\n") as f:
    for line in LINES:
        f.write(json.dumps(line, ensure_ascii=False) + "\n")
print(f"wrote {len(LINES)} lines to {os.path.normpath(OUT)}")
