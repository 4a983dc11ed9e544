"""The near-duplicate script a user would write with datasketch alone (the benchmark's
baseline): word 5-shingles, ``MinHash.update_batch``, then ``MinHashLSH`` queries.

Usage: python benchmarks/baseline.py CORPUS_DIR [--threshold 0.5]
Prints the number of candidate pairs found.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from datasketch import MinHash, MinHashLSH


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--threshold", type=float, default=0.5)
    args = parser.parse_args()
    lsh = MinHashLSH(threshold=args.threshold, num_perm=128)
    sketches = {}
    for path in sorted(args.corpus.glob("*.txt")):
        words = path.read_text(encoding="utf-8").lower().split()
        shingles = {" ".join(words[i:i + 5]).encode("utf-8")
                    for i in range(max(1, len(words) - 4))}
        m = MinHash(num_perm=128)
        m.update_batch(shingles)
        lsh.insert(path.name, m)
        sketches[path.name] = m
    pairs = set()
    for name, m in sketches.items():
        for other in lsh.query(m):
            if other != name:
                pairs.add(tuple(sorted((name, other))))
    print(len(pairs))


if __name__ == "__main__":
    main()
