"""copydetect against Dolos on the planted class: the comparison behind ``similarity``'s choice of engine.

    python -m tests.selftest.similarity_engines [--dolos FOLDER]

FOLDER holds ``node_modules/@dodona/dolos-lib`` (``npm install @dodona/dolos-lib``
there); without it only copydetect is measured. Both engines get the same input:
each submission read as ``similarity`` reads it (one text per submission), and
the released skeleton as boilerplate (Dolos: its ``ignore`` file). Prints every
pair's score, planted pairs marked, and whether every planted pair ranks above
every independent one.
"""

import argparse
import itertools
import subprocess
import tempfile
import time
from pathlib import Path

from tests.selftest import planted_similarity

from convgrader.course import similarity

#: Dolos's library, driven from Node: the pairs of the files given, after the ignored (boilerplate) one.
DOLOS_SCRIPT = """
import { Dolos } from "@dodona/dolos-lib";
const [ignore, ...paths] = process.argv.slice(2);
const report = await new Dolos({ language: "python" }).analyzePaths(paths, ignore);
for (const pair of report.allPairs()) console.log(pair.leftFile.path, pair.rightFile.path, pair.similarity);
"""


def read_planted(root):
    """The planted class and known solution as ``similarity`` reads them, and the planted pairs."""
    _, _, planted, copied = planted_similarity.build(root)
    codes, _ = similarity.read_folder(root / "submissions", root / "scratch")
    known, _ = similarity.read_folder(root / "known", root / "scratch", known=True)
    planted |= {frozenset((student, f"known:{solution}")) for student, solution in copied.items()}
    return codes + known, planted


def copydetect_scores(codes):
    started = time.process_time()
    matches = similarity.compare(codes, similarity.skeleton_code())
    scores = {frozenset((similarity.label(m.a), similarity.label(m.b))): m.similarity for m in matches}
    return scores, f"{time.process_time() - started:.2f} s CPU"


def dolos_scores(codes, modules, scratch):
    files = {}
    for code in codes:
        path = scratch / f"{similarity.label(code).replace(':', '_')}.py"
        path.write_text(code.text, encoding="utf-8")
        files[path.stem] = similarity.label(code)
    skeleton = scratch / "skeleton.py"
    skeleton.write_text(similarity.skeleton_code(), encoding="utf-8")
    script = Path(modules) / "convgrader_dolos.mjs"  # beside node_modules, where Node resolves the import
    script.write_text(DOLOS_SCRIPT, encoding="utf-8")
    started = time.monotonic()
    pairs = [(a, b) for a, b in itertools.combinations(codes, 2) if not (a.known and b.known)]
    run = subprocess.run(["node", str(script), str(skeleton), *[str(scratch / f"{n}.py") for n in files]],
                         capture_output=True, text=True, check=True, cwd=modules)
    wanted = {frozenset((similarity.label(a), similarity.label(b))) for a, b in pairs}
    scores = {}
    for line in run.stdout.splitlines():
        left, right, score = line.split()
        pair = frozenset((files[Path(left).stem], files[Path(right).stem]))
        if pair in wanted:
            scores[pair] = float(score)
    return scores, f"{time.monotonic() - started:.2f} s wall (a Node process)"


def show(engine, scores, cost, planted):
    print(f"== {engine} ({cost})")
    for pair, score in sorted(scores.items(), key=lambda item: -item[1]):
        print(f"  {'planted' if pair in planted else '       '} {' - '.join(sorted(pair)):40s} {score:.3f}")
    lowest = min(scores[pair] for pair in planted)
    highest = max(score for pair, score in scores.items() if pair not in planted)
    verdict = "every planted pair above every independent one" if lowest > highest else "NOT SEPARATED"
    print(f"  lowest planted {lowest:.3f}, highest independent {highest:.3f}: {verdict}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dolos", type=Path, metavar="FOLDER", help="a folder with @dodona/dolos-lib installed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        codes, planted = read_planted(scratch / "planted")
        show("copydetect", *copydetect_scores(codes), planted)
        if args.dolos:
            (scratch / "dolos").mkdir()
            show("Dolos", *dolos_scores(codes, args.dolos, scratch / "dolos"), planted)


if __name__ == "__main__":
    main()
