#!/usr/bin/env python3
"""Oracle for test_model's RandomModel tests: loads a model folder's tokenizer with transformers'
AutoTokenizer, as vLLM and lm-eval do, and prints every warning transformers logs while doing so.

transformers 5.17 warns about an "incorrect regex pattern" (its Mistral tokenizer fix) for every
local tokenizer whose config.json lacks "transformers_version"; `qbuild random-model` must write
a config.json that loads silently.

Pinned: transformers 5.17.0 (checked at start; torch is not needed). When it is missing or
another version it prints why and exits 77, which the C++ test turns into a skip.

Usage: tokenizer_load_warnings.py MODEL_DIR
Prints one JSON object on its last line: {"warnings": [...], "ids": [ids of "Hello, world"]}
"""
import json
import logging
import sys

PINNED = "5.17.0"
SKIP = 77

try:
    import transformers
    from transformers import AutoTokenizer
except ImportError as e:
    print(f"oracle packages missing: {e}")
    sys.exit(SKIP)
if transformers.__version__ != PINNED:
    print(f"transformers {transformers.__version__} installed, {PINNED} pinned")
    sys.exit(SKIP)


class Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


collect = Collect()
transformers.utils.logging.get_logger().addHandler(collect)  # the "transformers" root logger
tok = AutoTokenizer.from_pretrained(sys.argv[1])
print(json.dumps({"warnings": collect.messages, "ids": tok("Hello, world")["input_ids"]}))
