"""npm run train:tiny: data -> train -> export (weights, ONNX, golden) -> eval -> model card with scores.

Each step is its own script; training resumes from its checkpoint if interrupted,
and the splits it generated are reused.
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))


def run(script, *args):
    print(f"== {script} {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, os.path.join(HERE, script), *args], cwd=REPO, check=True)


def main():
    work = os.path.join(REPO, ".cache", "train")
    scores = os.path.join(work, "scores.json")
    run("train.py", "--work", work, *sys.argv[1:])
    run("export.py", "--work", work)
    run("eval.py", "--seed", "9", "--count", "1900", "--json", scores)
    run("export.py", "--work", work, "--scores", scores, "--card-only")


if __name__ == "__main__":
    main()
