#!/usr/bin/env python3
"""Writes the small authored demo datasets under data/datasets/ and the Parquet test fixtures
under tests/golden/eval/parquet/.

The items are written here by hand (general-knowledge questions, simple arithmetic word
problems); GSM8K solutions carry calculator annotations "<<expr=value>>" that this script
evaluates, so every step and the final "#### N" are arithmetic-checked.

  data/datasets/demo_mmlu/   all/{dev,test}.jsonl and all/{dev,test}-00000-of-00001.parquet
                             (cais/mmlu columns: question, subject, choices[4], answer 0..3),
                             data/{dev,test}/<subject>_{dev,test}.csv (hendrycks: no header,
                             question,A,B,C,D,letter)
  data/datasets/demo_gsm8k/  main/{train,test}.{jsonl,csv} and main/{train,test}-00000-of-00001.parquet
                             (openai/gsm8k columns: question, answer ending "#### N")

Pinned: Python 3.11, pyarrow 26.0.1 (checked below). Output is deterministic: re-running
rewrites byte-identical files.

  .venv-oracle/bin/python tests/golden/scripts/eval_demo_datasets.py
"""
import csv
import io
import json
import os
import re
import sys
from fractions import Fraction

import pyarrow as pa
import pyarrow.parquet as pq

if sys.version_info[:2] != (3, 11) or pa.__version__ != "26.0.1":
    sys.exit(f"need Python 3.11 and pyarrow 26.0.1, have {sys.version.split()[0]} and {pa.__version__}")

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))

# ---------------------------------------------------------------------------------------------
# MMLU-format items: subject -> (dev items, test items); each (question, [A, B, C, D], letter).
MMLU = {
    "astronomy": (
        [
            ("Which planet is closest to the Sun?", ["Venus", "Mercury", "Mars", "Earth"], "B"),
            ("What is the name of the galaxy that contains our Solar System?",
             ["Andromeda", "Triangulum", "The Milky Way", "The Large Magellanic Cloud"], "C"),
            ("Approximately how long does light from the Sun take to reach Earth?",
             ["8 seconds", "8 minutes", "8 hours", "8 days"], "B"),
            ("Which planet is best known for its bright system of rings?", ["Saturn", "Mercury", "Mars", "Venus"], "A"),
            ("What causes the phases of the Moon?",
             ["Earth's shadow falling on the Moon", "The changing distance between Earth and the Moon",
              "How much of the Moon's sunlit half we see from Earth", "Clouds in Earth's atmosphere"], "C"),
        ],
        [
            ("What is the largest planet in the Solar System?", ["Earth", "Saturn", "Neptune", "Jupiter"], "D"),
            ("Which planet is often called the Red Planet?", ["Mars", "Venus", "Jupiter", "Mercury"], "A"),
            ("How long does Earth take to complete one orbit around the Sun?",
             ["About 24 hours", "About 30 days", "About 365 days", "About 12 years"], "C"),
            ("What type of object is the Sun?", ["A planet", "A star", "A comet", "A moon"], "B"),
            ("A solar eclipse happens when",
             ["Earth passes between the Sun and the Moon", "the Moon passes between the Sun and Earth",
              "the Sun passes between Earth and the Moon", "Mars passes in front of the Sun"], "B"),
            ("Which planet is farthest from the Sun?", ["Uranus", "Saturn", "Neptune", "Jupiter"], "C"),
            ("A light-year is a unit of", ["time", "distance", "brightness", "mass"], "B"),
            ("Which force keeps the planets in orbit around the Sun?",
             ["Magnetism", "Friction", "Gravity", "The strong nuclear force"], "C"),
            ("Earth's seasons are caused mainly by",
             ["the tilt of Earth's axis", "changes in Earth's distance from the Sun", "the Moon's gravity",
              "sunspots"], "A"),
            ("Which of these is a moon of Saturn?", ["Phobos", "Europa", "Ganymede", "Titan"], "D"),
        ],
    ),
    "elementary_mathematics": (
        [
            ("What is 7 × 8?", ["54", "56", "58", "64"], "B"),
            ("Which number is a prime number?", ["21", "27", "29", "33"], "C"),
            ("What is 3/4 written as a decimal?", ["0.34", "0.75", "0.43", "0.7"], "B"),
            ("How many sides does a hexagon have?", ["6", "5", "7", "8"], "A"),
            ("What is 15% of 200?", ["15", "20", "30", "35"], "C"),
        ],
        [
            ("What is 9 + 16?", ["24", "25", "26", "27"], "B"),
            ("What is 144 ÷ 12?", ["14", "13", "11", "12"], "D"),
            ("What is the perimeter of a square with sides of 5 cm?", ["10 cm", "15 cm", "20 cm", "25 cm"], "C"),
            ("Which fraction is equal to 1/2?", ["2/3", "3/6", "3/5", "4/7"], "B"),
            ("What is 2 to the power of 5?", ["10", "16", "25", "32"], "D"),
            ("Round 3.67 to the nearest tenth.", ["3.7", "3.6", "4.0", "3.8"], "A"),
            ("What is the area of a rectangle 4 m long and 6 m wide?", ["10 m²", "20 m²", "24 m²", "48 m²"], "C"),
            ("What is the least common multiple of 4 and 6?", ["2", "10", "12", "24"], "C"),
            ("How many minutes are in 2.5 hours?", ["120", "130", "150", "250"], "C"),
            ("What is −3 + 8?", ["5", "−5", "11", "−11"], "A"),
        ],
    ),
    "high_school_computer_science": (
        [
            ("How many bits are in one byte?", ["4", "8", "16", "32"], "B"),
            ("What is the binary representation of the decimal number 5?", ["101", "110", "111", "100"], "A"),
            ("Which data structure works on a last-in, first-out basis?",
             ["Queue", "Stack", "Linked list", "Hash table"], "B"),
            ("What is 17 % 5, where % is the remainder operator?", ["2", "3", "4", "5"], "A"),
            ("Which sorting algorithm has an average time complexity of O(n log n)?",
             ["Bubble sort", "Insertion sort", "Merge sort", "Selection sort"], "C"),
        ],
        [
            ("What is the decimal value of the binary number 1010?", ["8", "10", "12", "20"], "B"),
            ("What does CPU stand for?",
             ["Central Processing Unit", "Computer Personal Unit", "Central Program Utility",
              "Control Processing Unit"], "A"),
            ("Binary search requires the input list to be", ["sorted", "empty", "of even length",
                                                             "stored in a linked list"], "A"),
            ("What is the worst-case number of comparisons of binary search on n elements, in big-O notation?",
             ["O(1)", "O(log n)", "O(n)", "O(n^2)"], "B"),
            ("Which data structure processes items in first-in, first-out order?",
             ["Stack", "Tree", "Queue", "Heap"], "C"),
            ("What is the hexadecimal number FF in decimal?", ["15", "16", "255", "256"], "C"),
            ("How many different values can be represented with 3 bits?", ["8", "3", "6", "9"], "A"),
            ("Which logic gate outputs true only when both of its inputs are true?", ["OR", "XOR", "NOT", "AND"], "D"),
            ("What does HTML stand for?",
             ["High Transfer Machine Language", "Hyperlink and Text Management Language", "Home Tool Markup Language",
              "HyperText Markup Language"], "D"),
            ("Consider the program below.\nx = 3\ny = x * 2\nprint(\"y =\", y)\nWhat does it print?",
             ["y = 3", "y = 5", "y = 6", "y = 9"], "C"),
        ],
    ),
    "high_school_geography": (
        [
            ("Which is the longest river in South America?", ["Amazon", "Paraná", "Orinoco", "Magdalena"], "A"),
            ("The Tropic of Cancer lies at approximately which latitude?", ["0°", "23.5° N", "23.5° S", "66.5° N"], "B"),
            ("Which continent has the largest land area?", ["Africa", "North America", "Asia", "Europe"], "C"),
            ("What is the capital of Australia?", ["Sydney", "Melbourne", "Perth", "Canberra"], "D"),
            ("Which term describes the movement of people from rural areas to cities?",
             ["Urbanization", "Desertification", "Deforestation", "Globalization"], "A"),
        ],
        [
            ("Which ocean is the largest by area?", ["Atlantic", "Indian", "Pacific", "Arctic"], "C"),
            ("Mount Kilimanjaro is located in which country?", ["Kenya", "Tanzania", "Uganda", "Ethiopia"], "B"),
            ("Which line of longitude is used as the Prime Meridian?", ["0°", "90° E", "180°", "90° W"], "A"),
            ("Which is the largest hot desert in the world?", ["Gobi", "Kalahari", "Atacama", "Sahara"], "D"),
            ("The Nile River flows into which body of water?",
             ["The Red Sea", "The Mediterranean Sea", "The Indian Ocean", "The Persian Gulf"], "B"),
            ("Which country has the largest population in South America?",
             ["Argentina", "Colombia", "Brazil", "Peru"], "C"),
            ("On a map with a scale of 1:50,000, a distance of 1 cm represents", ["50 m", "500 m", "5 km", "50 km"], "B"),
            ("What is the capital of Canada?", ["Toronto", "Vancouver", "Montreal", "Ottawa"], "D"),
            ("Which mountain range is traditionally taken as part of the border between Europe and Asia?",
             ["The Alps", "The Urals", "The Andes", "The Rockies"], "B"),
            ("Which list contains only continents?",
             ["Asia, Europe, Africa", "Asia, Brazil, Africa", "Europe, Canada, Asia", "Africa, Peru, \"Oceania\""], "A"),
        ],
    ),
}

# ---------------------------------------------------------------------------------------------
# GSM8K-format items: (question, solution lines, expected final answer). In a solution line
# "<<expr>>" becomes "<<expr=value>>value", as in GSM8K's calculator annotations.
GSM8K_TRAIN = [
    ("Mia has 12 apples. She buys 3 bags with 4 apples in each bag. How many apples does she have now?",
     ["The bags hold 3*4 = <<3*4>> apples.", "Mia now has 12+12 = <<12+12>> apples."], 24),
    ("A pencil costs $2 and a notebook costs $5. How much do 3 pencils and 2 notebooks cost?",
     ["The pencils cost 3*2 = $<<3*2>>.", "The notebooks cost 2*5 = $<<2*5>>.", "Together they cost 6+10 = $<<6+10>>."], 16),
    ("Tom reads 15 pages every day. How many pages does he read in 2 weeks?",
     ["2 weeks is 2*7 = <<2*7>> days.", "He reads 15*14 = <<15*14>> pages."], 210),
    ("A baker made 60 cookies and sold 3/4 of them. How many cookies are left?",
     ["He sold 60*3/4 = <<60*3/4>> cookies.", "He has 60-45 = <<60-45>> cookies left."], 15),
    ("Sara is 8 years old. Her mother is 4 times as old. How old will her mother be in 5 years?",
     ["Her mother is 8*4 = <<8*4>> years old.", "In 5 years she will be 32+5 = <<32+5>> years old."], 37),
    ("A train travels 80 km each hour. How far does it travel in 3 and a half hours?",
     ["It travels 80*3.5 = <<80*3.5>> km."], 280),
    ("Leo had $50. He spent $18 on a shirt and half of the rest on lunch. How much money does he have left?",
     ["After the shirt he had 50-18 = $<<50-18>>.", "He spent 32/2 = $<<32/2>> on lunch.",
      "He has 32-16 = $<<32-16>> left."], 16),
    ("A garden has 6 rows of 9 tulips. If 14 tulips are picked, how many tulips remain?",
     ["There are 6*9 = <<6*9>> tulips.", "After picking, 54-14 = <<54-14>> remain."], 40),
]

GSM8K_TEST = [
    ("Ava buys 5 packs of stickers with 8 stickers each. She gives away 13 stickers. How many stickers does she have left?",
     ["She buys 5*8 = <<5*8>> stickers.", "She has 40-13 = <<40-13>> left."], 27),
    ("A farmer has 23 cows and buys 17 more. Each cow eats 4 kg of hay a day. How much hay do the cows eat in one day?",
     ["He has 23+17 = <<23+17>> cows.", "They eat 40*4 = <<40*4>> kg of hay."], 160),
    ("A movie ticket costs $12. A family buys 4 tickets and pays with a $100 bill. How much change do they get?",
     ["The tickets cost 4*12 = $<<4*12>>.", "The change is 100-48 = $<<100-48>>."], 52),
    ("Ben runs 3 km on weekdays and 5 km on each day of the weekend. How many km does he run in a week?",
     ["On weekdays he runs 5*3 = <<5*3>> km.", "On the weekend he runs 2*5 = <<2*5>> km.",
      "In total he runs 15+10 = <<15+10>> km."], 25),
    ("A box holds 24 eggs. How many boxes are needed for 192 eggs?",
     ["They need 192/24 = <<192/24>> boxes."], 8),
    ("Lily saves $15 every week. How many weeks does she need to save $240?",
     ["She needs 240/15 = <<240/15>> weeks."], 16),
    ("A classroom has 28 students. 3/7 of them are boys. How many girls are in the classroom?",
     ["There are 28*3/7 = <<28*3/7>> boys.", "There are 28-12 = <<28-12>> girls."], 16),
    ("A shop sells pens at 3 for $4. How much do 27 pens cost?",
     ["27 pens are 27/3 = <<27/3>> groups of 3.", "They cost 9*4 = $<<9*4>>."], 36),
    ("Noah has 45 marbles. Emma has twice as many as Noah. How many marbles do they have together?",
     ["Emma has 45*2 = <<45*2>> marbles.", "Together they have 45+90 = <<45+90>> marbles."], 135),
    ("A water tank holds 500 liters. It is 30% full. How many more liters are needed to fill it?",
     ["It holds 500*30/100 = <<500*30/100>> liters now.", "It needs 500-150 = <<500-150>> more liters."], 350),
    ("A bus has 52 seats. 19 people get on at the first stop and 24 at the second. How many seats are still empty?",
     ["19+24 = <<19+24>> people got on.", "52-43 = <<52-43>> seats are empty."], 9),
    ("Jack bakes 4 trays of muffins with 12 muffins on each tray. He eats 3 and packs the rest in bags of 5. How many bags does he fill?",
     ["He bakes 4*12 = <<4*12>> muffins.", "After eating 3 he has 48-3 = <<48-3>> muffins.", "He fills 45/5 = <<45/5>> bags."], 9),
    ("A bike costs $240. Maria pays 1/4 of the price now and the rest in 6 equal monthly payments. How much is each monthly payment?",
     ["She pays 240/4 = $<<240/4>> now.", "The rest is 240-60 = $<<240-60>>.", "Each payment is 180/6 = $<<180/6>>."], 30),
    ("A rectangle is 14 cm long and 9 cm wide. What is its perimeter in cm?",
     ["The perimeter is 2*(14+9) = <<2*(14+9)>> cm."], 46),
    ("A library had 1,200 books. It received 350 new books and gave away 300 old ones. How many books does it have now?",
     ["After receiving books it had 1200+350 = <<1200+350>> books.", "Now it has 1550-300 = <<1550-300>> books."], 1250),
    ("Olivia earns $18 an hour. She works 6 hours on Saturday and 4 hours on Sunday. How much does she earn over the weekend?",
     ["She works 6+4 = <<6+4>> hours.", "She earns 10*18 = $<<10*18>>."], 180),
    ("A recipe needs 3 cups of flour for 12 pancakes. How many cups of flour are needed for 36 pancakes?",
     ["36 pancakes is 36/12 = <<36/12>> times the recipe.", "It needs 3*3 = <<3*3>> cups."], 9),
    ("There are 7 days in a week. How many days are in 13 weeks?",
     ["13 weeks have 13*7 = <<13*7>> days."], 91),
    ("A store had 85 shirts. It sold 29 on Monday and 31 on Tuesday. How many shirts are left?",
     ["It sold 29+31 = <<29+31>> shirts.", "85-60 = <<85-60>> shirts are left."], 25),
    ("Henry buys 3 notebooks at $4 each and 2 pens at $1.50 each. How much does he spend?",
     ["The notebooks cost 3*4 = $<<3*4>>.", "The pens cost 2*1.5 = $<<2*1.5>>.", "He spends 12+3 = $<<12+3>>."], 15),
    ("A car uses 8 liters of fuel for every 100 km. How many liters does it use for 450 km?",
     ["It uses 450/100*8 = <<450/100*8>> liters."], 36),
    ("Grace has 64 candies. She gives 1/4 to her brother and 1/2 of the remaining candies to her friend. How many candies does she keep?",
     ["She gives her brother 64/4 = <<64/4>> candies.", "She has 64-16 = <<64-16>> left.",
      "She gives her friend 48/2 = <<48/2>> candies.", "She keeps 48-24 = <<48-24>> candies."], 24),
    ("A school orders 15 boxes of markers. Each box has 12 markers. The markers are shared equally among 9 classes. How many markers does each class get?",
     ["There are 15*12 = <<15*12>> markers.", "Each class gets 180/9 = <<180/9>> markers."], 20),
    ("Daniel is 3 times as old as his son. His son is 11. How old will Daniel be in 7 years?",
     ["Daniel is 3*11 = <<3*11>> years old.", "In 7 years he will be 33+7 = <<33+7>>."], 40),
    ("A pool is filled at 25 liters per minute. How many minutes does it take to fill 1,000 liters?",
     ["It takes 1000/25 = <<1000/25>> minutes."], 40),
    ("Chloe had 120 stamps. She sold 45 and then bought 30 more. How many stamps does she have?",
     ["After selling she had 120-45 = <<120-45>> stamps.", "After buying she has 75+30 = <<75+30>> stamps."], 105),
    ("A fruit seller packs 96 oranges into bags of 8. He sells each bag for $3. How much money does he make if he sells all the bags?",
     ["He fills 96/8 = <<96/8>> bags.", "He makes 12*3 = $<<12*3>>."], 36),
    ("A concert hall has 40 rows of 25 seats. 870 tickets were sold. How many seats are empty?",
     ["The hall has 40*25 = <<40*25>> seats.", "1000-870 = <<1000-870>> seats are empty."], 130),
    ("Ethan walks 2 km to school and 2 km back home every school day. How many km does he walk in 5 school days?",
     ["Each day he walks 2+2 = <<2+2>> km.", "In 5 days he walks 4*5 = <<4*5>> km."], 20),
    ("A phone costs $450. It is on sale for 20% off. What is the sale price in dollars?",
     ["The discount is 450*20/100 = $<<450*20/100>>.", "The sale price is 450-90 = $<<450-90>>."], 360),
    ("Zoe plants 5 rows of carrots with 18 carrots in each row. Rabbits eat 17 carrots. How many carrots are left?",
     ["She plants 5*18 = <<5*18>> carrots.", "90-17 = <<90-17>> carrots are left."], 73),
    ("A pizza is cut into 8 slices. 6 friends each eat 3 slices. How many pizzas did they eat?",
     ["They eat 6*3 = <<6*3>> slices.", "That is 18/8 = <<18/8>> pizzas."], Fraction(9, 4)),
    ("Isaac has 3 times as many books as Ruby. Together they have 84 books. How many books does Ruby have?",
     ["Together they have 3+1 = <<3+1>> parts.", "Ruby has 84/4 = <<84/4>> books."], 21),
    ("A printer prints 30 pages per minute. How many pages does it print in a quarter of an hour?",
     ["A quarter of an hour is 60/4 = <<60/4>> minutes.", "It prints 30*15 = <<30*15>> pages."], 450),
    ("The temperature was 7 degrees in the morning and fell by 12 degrees by midnight. What was the temperature at midnight?",
     ["At midnight it was 7-12 = <<7-12>> degrees."], -5),
    ("A carpenter cuts a 6-meter board into pieces of 0.75 meters. How many pieces does he get?",
     ["He gets 6/0.75 = <<6/0.75>> pieces."], 8),
    ("Amelia scored 78, 85 and 92 on three tests. What is her average score?",
     ["Her total is 78+85+92 = <<78+85+92>>.", "Her average is 255/3 = <<255/3>>."], 85),
    ("A parking lot has 6 levels with 45 spaces each. 198 cars are parked. How many spaces are free?",
     ["There are 6*45 = <<6*45>> spaces.", "270-198 = <<270-198>> spaces are free."], 72),
    ("Lucas buys a jacket for $65 and two hats for $12 each. He pays with $100. How much change does he get?",
     ["The hats cost 2*12 = $<<2*12>>.", "He spends 65+24 = $<<65+24>>.", "His change is 100-89 = $<<100-89>>."], 11),
    ("A tree grows 35 cm every year. It is 2 meters tall now. How tall will it be in 4 years, in cm?",
     ["2 meters is 2*100 = <<2*100>> cm.", "It grows 35*4 = <<35*4>> cm.", "It will be 200+140 = <<200+140>> cm."], 340),
]


def fmt_value(v):
    if isinstance(v, Fraction):
        if v.denominator == 1:
            return str(v.numerator)
        f = float(v)
        s = repr(f)
        if Fraction(s) != v:
            sys.exit(f"value {v} has no exact decimal form")
        return s
    return str(v)


def evaluate(expr):
    # Exact rational arithmetic over + - * / and parentheses (digits only), no eval of names.
    if not re.fullmatch(r"[0-9.+\-*/() ]+", expr):
        sys.exit(f"bad expression {expr!r}")
    code = re.sub(r"(\d+(?:\.\d+)?)", r"Fraction('\1')", expr)
    return eval(code, {"Fraction": Fraction, "__builtins__": {}})


def render_solution(lines, expected):
    out, last = [], None
    for line in lines:
        def sub(m):
            nonlocal last
            last = evaluate(m.group(1))
            return f"<<{m.group(1)}={fmt_value(last)}>>{fmt_value(last)}"
        out.append(re.sub(r"<<([^>]+)>>", sub, line))
    expected = Fraction(expected)
    if last != expected:
        sys.exit(f"solution ends at {last}, expected {expected}: {lines}")
    return "\n".join(out) + f"\n#### {fmt_value(expected)}"


def write(path, data):
    path = os.path.join(ROOT, path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def jsonl(rows):
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


def csv_bytes(rows, header=None):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if header:
        w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode()


def parquet_bytes(table):
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="snappy")
    return sink.getvalue().to_pybytes()


MMLU_SCHEMA = pa.schema([("question", pa.string()), ("subject", pa.string()),
                         ("choices", pa.list_(pa.string())), ("answer", pa.int64())])
GSM8K_SCHEMA = pa.schema([("question", pa.string()), ("answer", pa.string())])


def mmlu_table(rows):
    return pa.Table.from_pylist(rows, schema=MMLU_SCHEMA)


def main():
    for split, pick in (("dev", 0), ("test", 1)):
        rows = []
        for subject in sorted(MMLU):
            items = MMLU[subject][pick]
            for q, choices, letter in items:
                assert len(choices) == 4 and letter in "ABCD"
                rows.append({"question": q, "subject": subject, "choices": choices, "answer": "ABCD".index(letter)})
            write(f"data/datasets/demo_mmlu/data/{split}/{subject}_{split}.csv",
                  csv_bytes([[q, *c, l] for q, c, l in items]))
        write(f"data/datasets/demo_mmlu/all/{split}.jsonl", jsonl(rows))
        write(f"data/datasets/demo_mmlu/all/{split}-00000-of-00001.parquet", parquet_bytes(mmlu_table(rows)))

    for split, items in (("train", GSM8K_TRAIN), ("test", GSM8K_TEST)):
        rows = [{"question": q, "answer": render_solution(lines, ans)} for q, lines, ans in items]
        write(f"data/datasets/demo_gsm8k/main/{split}.jsonl", jsonl(rows))
        write(f"data/datasets/demo_gsm8k/main/{split}.csv",
              csv_bytes([[r["question"], r["answer"]] for r in rows], header=["question", "answer"]))
        write(f"data/datasets/demo_gsm8k/main/{split}-00000-of-00001.parquet",
              parquet_bytes(pa.Table.from_pylist(rows, schema=GSM8K_SCHEMA)))

    # Malformed Parquet fixtures for the loader's error tests.
    bad = [{"question": "Q0", "subject": "s", "choices": ["a", "b", "c", "d"], "answer": 1},
           {"question": "Q1", "subject": "s", "choices": ["a", "b", "c", "d"], "answer": 7}]
    write("tests/golden/eval/parquet/mmlu_bad_answer/all/test-00000-of-00001.parquet", parquet_bytes(mmlu_table(bad)))
    three = pa.Table.from_pylist(
        [{"question": "Q0", "subject": "s", "choices": ["a", "b", "c"], "answer": 0}], schema=MMLU_SCHEMA)
    write("tests/golden/eval/parquet/mmlu_three_choices/all/test-00000-of-00001.parquet", parquet_bytes(three))
    no_final = pa.Table.from_pylist([{"question": "Q", "answer": "2+2=4"}], schema=GSM8K_SCHEMA)
    write("tests/golden/eval/parquet/gsm8k_no_final/main/test-00000-of-00001.parquet", parquet_bytes(no_final))
    # Two shards: the loader must read them in name order.
    shard_rows = [{"question": f"Q{i}", "answer": f"step\n#### {i}"} for i in range(4)]
    for k in range(2):
        write(f"tests/golden/eval/parquet/gsm8k_shards/main/test-0000{k}-of-00002.parquet",
              parquet_bytes(pa.Table.from_pylist(shard_rows[2 * k:2 * k + 2], schema=GSM8K_SCHEMA)))
    print("ok: demo_mmlu, demo_gsm8k and parquet fixtures written")


if __name__ == "__main__":
    main()
