"""The recipes train.py can run (--recipe): v1, the stages that made today's bundled model, and v2, the retrain.

v2 keeps v1's stage order, lengths and rates (stages.py says what each was for) and changes
what they see:
- the byte-level BPE tokenizer (tools/train/bpe), so the model can copy any word it is given;
- documents and charts printed in real English words (`--words real`, 6000 training words; the
  held-out list never appears) in every stage that has them, the synthetic words in the others;
- the weak tasks of today's card drawn more often wherever they are in the mix: two-image
  comparisons, descriptions, multi-turn follow-ups that ask a different thing, the two-step
  table lookup from page text (row by item, then column), chart values and the highest bar;
- two closing passes on those tasks alone and then every task at a low rate;
- the label-free silhouette loss (silhouette.py) beside the dense heads, meant to make the tower
  separate shapes it was never labelled with. Measured on the encoder stage alone it did not do so
  reliably (silhouette.py has the numbers): check it after the retrain's first stage with
  `train.py --recipe v2 --stop-after encoder`, then `concept_probe.py --work ... --checkpoint model-encoder.pt`.
Every split keeps the generator's default held-out mode: no star and no purple in any scene or text
(--unlabelled-held-out, off in both recipes, shows them unlabelled in the encoder stage).
"""
from stages import READABLE_TASKS, STAGES, low_rate_mix

# How much more often than v1 each weak task is drawn (multiplies the stage's own weight, 1.0 when unset).
WEAK_TASKS = {"compare": 3.0, "describe": 2.0, "multi-turn": 2.0, "doc-table-context": 2.0,
              "doc-title-context": 1.5, "doc-date-context": 1.5, "chart-value": 3.0, "chart-highest": 2.0}
REAL_WORD_TASKS = {"doc-title", "doc-date", "doc-table", "doc-title-context", "doc-date-context",
                   "doc-table-context", "doc-tables-context", "chart-type", "chart-highest", "chart-max-value",
                   "chart-value"}


def prints_words(st):
    """Whether a stage's split has documents or charts (every task when its task list is None)."""
    return st["tasks"] is None or bool(REAL_WORD_TASKS & set(st["tasks"]))


def v2_stage(st):
    """A v1 stage as v2 runs it: real words where pages are printed, the weak tasks drawn more often."""
    out = dict(st)
    if prints_words(st):
        out["words"] = "real"
    tasks = READABLE_TASKS if st["tasks"] is None else st["tasks"]
    if st["lm"] > 0 and any(t in WEAK_TASKS for t in tasks):
        weights = dict(st.get("task_weights") or {})
        for t, w in WEAK_TASKS.items():
            if t in tasks:
                weights[t] = weights.get(t, 1.0) * w
        out["task_weights"] = weights
    return out


WEAK_PASS = dict(name="weak", seed=201, count=20000, words="real", min_objects=None, max_objects=None,
                 tasks=["compare", "describe", "multi-turn", "doc-table-context", "doc-title-context",
                        "doc-date-context", "chart-value", "chart-highest"],
                 steps=800, lr=2e-4, lm=1.0, dense=0.3, binding=0.5, schedule="cosine")

V2_STAGES = [v2_stage(st) for st in STAGES] + [WEAK_PASS, v2_stage(low_rate_mix("polish12", seed=202, steps=1200,
                                                                                 relations=6.0))]

RECIPES = {
    "v1": {"stages": STAGES, "tokenizer": "word", "silhouette": 0.0, "unlabelled_held_out": False},
    "v2": {"stages": V2_STAGES, "tokenizer": "bpe", "silhouette": 0.5, "unlabelled_held_out": False},
}


def plan(name):
    """The recipe as lines: each stage's split (records, words, tasks) and steps, then the totals."""
    r = RECIPES[name]
    lines = [f"recipe {name}: tokenizer {r['tokenizer']}, silhouette weight {r['silhouette']}, held-out concept shown "
             f"unlabelled in the encoder stage: {'yes' if r['unlabelled_held_out'] else 'no'}"]
    for st in r["stages"]:
        tasks = "all" if st["tasks"] is None else ("readable" if st["tasks"] == READABLE_TASKS else ",".join(st["tasks"]))
        weighted = ",".join(f"{t}x{w:g}" for t, w in sorted((st.get("task_weights") or {}).items()) if t in WEAK_TASKS)
        lines.append(f"  {st['name']:<11} {st['steps']:>5} steps  {st['count']:>6} records  words {st.get('words', 'synthetic'):<9} "
                     f"tasks {tasks}" + (f"  weak {weighted}" if weighted else ""))
    lines.append(f"  total {sum(st['steps'] for st in r['stages'])} steps, "
                 f"{sum(st['count'] for st in r['stages'])} records")
    return lines


if __name__ == "__main__":
    import sys
    for line in plan(sys.argv[1] if len(sys.argv) > 1 else "v2"):
        print(line)
