"""Where table-cell answers come from: the asked cell, its row, its column, elsewhere in the table, or nowhere.

    /usr/bin/python3 tools/train/table_cells.py --seed 11 --count 400 [--model public/models/webvlm-tiny]
    /usr/bin/python3 tools/train/table_cells.py --work .cache/train --checkpoint model-X.pt --seed 11 --count 400

Exact match alone cannot tell a model that copies some number from the table from one
that finds the asked row or column: picking one of a table's six to eight numbers at
random is right about one time in seven. This sorts every answer to a freshly
generated doc-table-context split by where in the table (if anywhere) it was found.
"""
import argparse
import json
import os
import re
import sys
from collections import Counter

sys.path.insert(0, os.path.dirname(__file__))
from eval import add_model_args, answers, eval_split, load_model, questions   # noqa: E402  (pins torch to one thread)

QUESTION = re.compile(r"What is the (\S+) of (\S+) in the table\?")
KINDS = ["the asked cell", "same row, other column", "same column, other row", "other row and column",
         "not in the table"]


def where(answer, table, column, item):
    """Which of KINDS the answer is, for the question about (column, item) of table (the generator's metadata)."""
    cols, rows = table["columns"], table["rows"]
    c = cols.index(column)
    row = next(r for r in rows if r[0] == item)
    if answer == row[c]:
        return KINDS[0]
    if answer in row[1:]:
        return KINDS[1]
    if answer in [r[c] for r in rows]:
        return KINDS[2]
    if answer in [v for r in rows for v in r[1:]]:
        return KINDS[3]
    return KINDS[4]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--count", type=int, default=400)
    add_model_args(ap)
    args = ap.parse_args()
    model, cfg, tok = load_model(args)
    folder = eval_split(args.seed, args.count, ["doc-table-context"])
    with open(os.path.join(folder, "data.json")) as f:
        records = json.load(f)
    with open(os.path.join(folder, "meta.json")) as f:
        meta = json.load(f)["images"]
    tally = Counter()
    # One question per record, so the answers come in record order.
    for r, (_, a, _) in zip(records, answers(model, tok, questions(records, folder, cfg, tok))):
        column, item = QUESTION.search(r["conversations"][0]["value"]).groups()
        tally[where(a, meta[os.path.basename(r["image"])]["table"], column, item)] += 1
    for k in KINDS:
        print(f"{k:<24} {tally[k]:>5} / {len(records)}  ({tally[k] / len(records):.3f})")


if __name__ == "__main__":
    main()
