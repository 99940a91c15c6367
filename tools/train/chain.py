"""npm run train:tiny: data -> train -> export (weights, ONNX, golden) -> eval -> model card with scores.

    npm run train:tiny                                   the v1 recipe into .cache/train, exported to public/models
    npm run train:tiny -- --recipe v2                    the retrain (recipes.py) into .cache/train-v2, exported to
                                                         .cache/train-v2/webvlm-tiny; --publish exports to public/models
    npm run train:tiny -- --recipe v2 --plan             print v2's stages, split sizes and steps, and stop

Each step is its own script; training resumes from its checkpoint if interrupted,
and the splits it generated are reused. Other arguments go to train.py.
v2 is also scored on pages printed in held-out real words (eval --words real-held-out),
scores-held-out-words.json beside scores.json.
"""
import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)

DOC_TASKS = "doc-title-context,doc-date-context,doc-table-context,doc-tables-context,chart-value,chart-highest"


def run(script, *args):
    print(f"== {script} {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, os.path.join(HERE, script), *args], cwd=REPO, check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--recipe", default="v1", choices=("v1", "v2"))
    ap.add_argument("--work", default=None, help="default .cache/train (v1) or .cache/train-v2 (v2)")
    ap.add_argument("--publish", action="store_true", help="v2: export to public/models/webvlm-tiny")
    ap.add_argument("--plan", action="store_true", help="print the recipe's stages and stop")
    args, rest = ap.parse_known_args()
    if args.plan:
        from recipes import plan
        print("\n".join(plan(args.recipe)))
        return
    v2 = args.recipe == "v2"
    work = args.work or os.path.join(REPO, ".cache", "train-v2" if v2 else "train")
    out = [] if not v2 or args.publish else ["--out", os.path.join(work, "webvlm-tiny")]
    model = ["--model", os.path.join(work, "webvlm-tiny")] if out else []
    scores = os.path.join(work, "scores.json")
    run("train.py", "--work", work, "--recipe", args.recipe, *rest)
    run("export.py", "--work", work, *out)
    run("eval.py", "--seed", "9", "--count", "1900", "--json", scores, *model)
    if v2:
        run("eval.py", "--seed", "9", "--count", "600", "--tasks", DOC_TASKS, "--words", "real-held-out",
            "--json", os.path.join(work, "scores-held-out-words.json"), *model)
    run("export.py", "--work", work, "--scores", scores, "--card-only", *out)


if __name__ == "__main__":
    main()
