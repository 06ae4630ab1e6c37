#!/usr/bin/env python3
"""Writes the small, hand-authored samples of the lm-evaluation-harness tasks qbuild runs, each
in a Hugging Face layout users download (data/HELP.md), under data/datasets/demo_*:

  demo_arc/ARC-Challenge/test.jsonl                      allenai/ai2_arc columns, JSONL
  demo_arc/ARC-Easy/test-00000-of-00001.parquet          the same in a Hub Parquet shard
  demo_hellaswag/data/validation-00000-of-00001.parquet  Rowan/hellaswag columns (label a string)
  demo_winogrande/winogrande_xl/validation.jsonl         allenai/winogrande columns
  demo_piqa/validation.jsonl                             baber/piqa columns
  demo_wikitext/wikitext-2-raw-v1/test.jsonl             EleutherAI/wikitext_document_level {page}
  demo_text/                                             the generic perplexity kind: a .txt
                                                         document and a .jsonl of {"text"} lines

Every sentence is written for qbuild (no dataset content is copied). The items exercise the
harness's preprocessing: HellaSwag's " [title]" and bracket removal and ctx_b.capitalize(),
WikiText's detokenizer (" @-@ ", " , ", "= = heading = =", quotes and brackets), ARC labels
given as digits, a Winogrande blank followed by punctuation, non-ASCII text.

Pinned: CPython 3.11, pyarrow==26.0.1 (Parquet writer; any recent pyarrow writes the same rows).
Run from the repository root:  /work/venv-lmeval/bin/python tests/golden/scripts/lm_eval_demo_datasets.py
"""
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
DATA = os.path.join(ROOT, "data", "datasets")


def write_jsonl(path, rows):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def write_parquet(path, rows):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)


def arc(prefix, items):
    rows = []
    for k, (q, choices, answer, labels) in enumerate(items):
        rows.append({"id": f"{prefix}_{k}", "question": q,
                     "choices": {"text": choices, "label": labels or [chr(65 + i) for i in range(len(choices))]},
                     "answerKey": answer})
    return rows


ARC_CHALLENGE = arc("qb_arcc", [
    ("Which property of a metal spoon explains why it feels colder than a wooden spoon at the same temperature?",
     ["It conducts heat away from the hand faster.", "It is heavier.", "It reflects more light.", "It has a lower melting point."], "A", None),
    ("A student drops a ball and a feather in a sealed tube with no air. What happens?",
     ["The ball lands first.", "The feather lands first.", "They land at the same time.", "Neither falls."], "C", None),
    ("Which change is a chemical change?",
     ["Ice melting", "Paper burning", "Salt dissolving in water", "Glass breaking"], "B", None),
    ("Plants in a dark closet for a week turn pale. Which process was most reduced?",
     ["respiration", "photosynthesis", "transpiration", "germination"], "2", ["1", "2", "3", "4"]),
    ("Why does the Moon show phases?",
     ["Earth's shadow covers it.", "We see different parts of its lit half as it orbits Earth.", "It changes its own brightness.",
      "Clouds block it.", "It rotates faster than Earth."], "B", None),
    ("An organism that makes its own food is called a…", ["consumer", "producer", "decomposer"], "B", None),
])
ARC_EASY = arc("qb_arce", [
    ("What do bees collect from flowers to make honey?", ["nectar", "pollen only", "water", "leaves"], "A", None),
    ("Which tool measures air temperature?", ["a barometer", "a thermometer", "a ruler", "a scale"], "B", None),
    ("Which is a renewable resource?", ["coal", "oil", "wind", "natural gas"], "C", None),
    ("Water freezes at what temperature in degrees Celsius?", ["100", "50", "0", "-40"], "3", ["1", "2", "3", "4"]),
    ("Which body system moves blood through the body?", ["digestive", "circulatory", "nervous", "skeletal"], "B", None),
])

HELLASWAG = [
    {"ind": 1, "activity_label": "Making tea", "ctx_a": "A woman fills a kettle at the sink.",
     "ctx_b": "she", "ctx": "", "endings": [
         "sets it on the stove and waits for the water to boil.", "throws the kettle out of the window.",
         "paints the kettle [blue] with a brush.", "reads the kettle a story."],
     "source_id": "qb-1", "split": "val", "split_type": "indomain", "label": "0"},
    {"ind": 2, "activity_label": "Home and Garden", "ctx_a": "[header] How to water a cactus [title] Check the soil first.",
     "ctx_b": "[step] PUSH a finger into the soil", "ctx": "", "endings": [
         "[substeps] If it is dry two inches down, water it slowly.", "and eat the soil.",
         "then water it every hour.  It loves water.", "until the cactus sings."],
     "source_id": "qb-2", "split": "val", "split_type": "zeroshot", "label": "0"},
    {"ind": 3, "activity_label": "Playing guitar", "ctx_a": "A man sits on a stool holding a guitar.",
     "ctx_b": "HE tunes the strings", "ctx": "", "endings": [
         "and then starts playing a slow song.", "and the guitar flies away.", "with a hammer.", "while sleeping."],
     "source_id": "qb-3", "split": "val", "split_type": "indomain", "label": "0"},
    {"ind": 4, "activity_label": "Cooking", "ctx_a": "The chef cracks two eggs into a bowl.", "ctx_b": "",
     "ctx": "", "endings": ["She whisks them with a fork.", "She plants them in the garden.",
                            "She mails them to a friend.", "She wears them as a hat."],
     "source_id": "qb-4", "split": "val", "split_type": "indomain", "label": "0"},
    {"ind": 5, "activity_label": "Running a marathon", "ctx_a": "Runners line up at the start.",
     "ctx_b": "the crowd cheers as", "ctx": "", "endings": [
         "the starting gun fires and they set off.", "the road turns into water.", "everyone sits down for lunch.",
         "the runners fall asleep."], "source_id": "qb-5", "split": "val", "split_type": "indomain", "label": "0"},
    {"ind": 6, "activity_label": "Café", "ctx_a": "A barista steams milk for a latte.", "ctx_b": "Élodie pours",
     "ctx": "", "endings": ["the milk over the espresso in a slow circle.", "the coffee onto the floor on purpose.",
                            "sand into the cup.", "the milk into her shoe."],
     "source_id": "qb-6", "split": "val", "split_type": "indomain", "label": "0"},
]

WINOGRANDE = [
    {"sentence": "The trophy did not fit in the suitcase because the _ was too large.", "option1": "trophy",
     "option2": "suitcase", "answer": "1"},
    {"sentence": "Maria lent her umbrella to Jenny because _ was going out into the rain.", "option1": "Maria",
     "option2": "Jenny", "answer": "2"},
    {"sentence": "The glass fell on the pillow and did not break because the _ was soft.", "option1": "glass",
     "option2": "pillow", "answer": "2"},
    {"sentence": "Tom beat Sam at chess, so _ practiced harder for the rematch.", "option1": "Tom", "option2": "Sam",
     "answer": "2"},
    {"sentence": "The soup was colder than the tea, so I reheated the _.", "option1": "soup", "option2": "tea",
     "answer": "1"},
]

PIQA = [
    {"goal": "How do you keep bread fresh for longer?", "sol1": "Store it in a sealed bag at room temperature.",
     "sol2": "Leave it open in the sun.", "label": 0},
    {"goal": "To loosen a tight jar lid,", "sol1": "put the jar in the freezer upside down.",
     "sol2": "run the lid under hot water for a minute.", "label": 1},
    {"goal": "Dry wet shoes quickly.", "sol1": "Stuff them with newspaper and leave them in a warm room.",
     "sol2": "Fill them with water and wait.", "label": 0},
    {"goal": "How can you find a small screw dropped on the carpet?",
     "sol1": "Cover a vacuum nozzle with a sock and vacuum slowly.", "sol2": "Shake the carpet out of the window.",
     "label": 0},
    {"goal": "Make ice cubes clearer.", "sol1": "Freeze boiled, cooled water slowly.",
     "sol2": "Add salt and freeze quickly.", "label": 0},
]

WIKITEXT = [
    {"page": " = Harbour Lantern = \n \n The Harbour Lantern is a small lighthouse built in 1887 on a rock "
             "north @-@ east of the old town . It stood 21 @.@ 5 metres high , and its lamp could be seen from "
             "14 km away . \n \n = = History = = \n \n Fishermen asked for the light after two boats were lost in "
             "a storm in the winter of 1884 @-@ 85 . The town council paid for it with a tax on salt ( about "
             "1 @,@ 200 pounds ) , and the keeper 's house was added later . \n \n = = = The keepers = = = \n \n "
             "\" Every night , \" one keeper wrote , \" the lamp must be lit before the bell . \" The last keeper "
             "left in 1961 , when the light was made automatic . \n"},
    {"page": " = River Ostra = \n \n The Ostra is a river of about 112 km . It rises in the hills at 640 m and "
             "flows south into the lake . Its water stays near 12 ° C in summer . \n \n = = Course = = \n \n The "
             "river passes three villages ; each has a stone bridge . The oldest bridge [ built in the 1600s ] "
             "still carries carts . Otters live along the banks , and the river 's trout are well known . N of "
             "the bridges are closed in spring floods . \n"},
    {"page": " = Café Mirelle = \n \n Café Mirelle opened in 1923 on the square . Its owner , Mirelle Dufour , "
             "served coffee , cakes and soup ; the menu has hardly changed . \n"},
]

TEXT_TXT = ("Notes on a walk by the canal.\n\nThe path follows the water for three miles. Herons stand in the "
            "shallows, and in spring the banks are yellow with flowers. A lock keeper's cottage marks the half-way "
            "point; from there the path climbs to the old mill.\n")
TEXT_JSONL = [{"text": "A short document about bread: flour, water, salt and yeast are mixed, left to rise, "
                       "shaped and baked until the crust is brown."},
              {"text": "Weather report — tomorrow will be cloudy with light rain in the afternoon; winds from the "
                       "west at 20 km/h."}]


def main():
    write_jsonl(os.path.join(DATA, "demo_arc", "ARC-Challenge", "test.jsonl"), ARC_CHALLENGE)
    write_parquet(os.path.join(DATA, "demo_arc", "ARC-Easy", "test-00000-of-00001.parquet"), ARC_EASY)
    write_parquet(os.path.join(DATA, "demo_hellaswag", "data", "validation-00000-of-00001.parquet"), HELLASWAG)
    write_jsonl(os.path.join(DATA, "demo_winogrande", "winogrande_xl", "validation.jsonl"), WINOGRANDE)
    write_jsonl(os.path.join(DATA, "demo_piqa", "validation.jsonl"), PIQA)
    write_jsonl(os.path.join(DATA, "demo_wikitext", "wikitext-2-raw-v1", "test.jsonl"), WIKITEXT)
    os.makedirs(os.path.join(DATA, "demo_text"), exist_ok=True)
    with open(os.path.join(DATA, "demo_text", "canal.txt"), "w", encoding="utf-8") as f:
        f.write(TEXT_TXT)
    write_jsonl(os.path.join(DATA, "demo_text", "more.jsonl"), TEXT_JSONL)


if __name__ == "__main__":
    main()
