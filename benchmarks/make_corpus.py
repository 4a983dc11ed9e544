"""Write a benchmark corpus of N news articles with known planted relations.

The text is real news text recombined: an order-2 word Markov chain trained on the seed
articles and, when ``../shared/data/reuters21578`` is present, on Reuters-21578 bodies,
generates sentences that read like wire copy but are new, so articles share only the stock
phrases real articles share. Into that background the generator plants, with ground truth:

- exact copies (with a different header or footer line),
- near-duplicates (1-10% of the words substituted, inserted or deleted),
- truncated copies (the first 30-70% of the paragraphs),
- articles that reuse 2-4 sentences of an earlier article, reworded (a word or two
  replaced, dropped or added).

Everything is deterministic from ``--seed``. The ground truth goes to ``truth.json``:
``clusters`` (documents that are copies of each other) and ``reused`` (destination
document and sentence, source document and sentence).

Usage: python benchmarks/make_corpus.py OUT_DIR -n 1000 [--seed 7]
"""

from __future__ import annotations

import argparse
import html
import json
import random
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
REUTERS = ROOT.parent / "shared" / "data" / "reuters21578"
WORD = re.compile(r"\S+")
FILLERS = ["reportedly", "also", "now", "still", "officially", "again", "broadly", "later"]


def training_sentences(max_reuters_files: int = 22) -> list[list[str]]:
    """Sentences (as word lists) of the seeds and, if present, Reuters bodies."""
    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    if REUTERS.is_dir():
        for path in sorted(REUTERS.glob("reut2-*.sgm"))[:max_reuters_files]:
            raw = path.read_bytes().decode("latin-1")
            for body in re.findall(r"<BODY>(.*?)</BODY>", raw, re.S):
                texts.append(html.unescape(body.replace("\x03", "")))
    sentences = []
    for text in texts:
        flat = " ".join(text.split())
        for s in re.split(r"(?<=[a-z0-9][.!?])\s+(?=[A-Z])", flat):
            ws = s.split()
            if 8 <= len(ws) <= 45 and not any(c.isdigit() for c in ws[0]):
                sentences.append(ws)
    return sentences


class Chain:
    """An order-2 Markov chain over words."""

    def __init__(self, sentences: list[list[str]]) -> None:
        self.next: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.starts: list[tuple[str, str]] = []
        for ws in sentences:
            padded = ["<s>", "<s>", *ws, "</s>"]
            self.starts.append((ws[0], ws[1]))
            for a, b, c in zip(padded, padded[1:], padded[2:], strict=False):
                self.next[(a, b)].append(c)

    def sentence(self, rng: random.Random) -> str:
        """One generated sentence of 10 to 40 words ending in a full stop."""
        while True:
            a, b = rng.choice(self.starts)
            out = [a, b]
            while len(out) < 40:
                c = rng.choice(self.next[(a, b)])
                if c == "</s>":
                    break
                out.append(c)
                a, b = b, c
            if len(out) >= 10:
                text = " ".join(out)
                return text if text[-1] in ".!?\"”" else text.rstrip(",;:") + "."


def original(chain: Chain, rng: random.Random) -> list[list[str]]:
    """An article as paragraphs of sentences, 300 to 1,200 words."""
    target = rng.randint(300, 1200)
    paragraphs: list[list[str]] = []
    words = 0
    while words < target:
        para = [chain.sentence(rng) for _ in range(rng.choice((1, 1, 2, 2, 3)))]
        words += sum(len(s.split()) for s in para)
        paragraphs.append(para)
    return paragraphs


def render(paragraphs: list[list[str]], header: str, footer: str) -> str:
    """Article text: a credit line, blank-line separated paragraphs, a footer line."""
    body = "\n\n".join(" ".join(p) for p in paragraphs)
    return f"{header}\n\n{body}\n\n{footer}\n"


def edit_words(text: str, share: float, rng: random.Random) -> str:
    """Substitute, insert or delete `share` of the words of `text`."""
    tokens = WORD.findall(text)
    for _ in range(max(1, round(len(tokens) * share))):
        i = rng.randrange(len(tokens))
        action = rng.random()
        if action < 0.5:
            tokens[i] = rng.choice(FILLERS)
        elif action < 0.75:
            tokens.insert(i, rng.choice(FILLERS))
        elif len(tokens) > 5:
            del tokens[i]
    return " ".join(tokens)


def reword(sentence: str, rng: random.Random) -> str:
    """A light rewording of one sentence: a word replaced, one dropped, one added."""
    ws = sentence.split()
    inner = list(range(1, len(ws) - 1))
    i = rng.choice(inner)
    ws[i] = rng.choice(FILLERS)
    j = rng.choice(inner)
    ws.insert(j, rng.choice(FILLERS))
    return " ".join(ws)


def make(out: Path, n: int, seed: int) -> dict:
    """Write `n` articles and truth.json into `out`; return the truth."""
    rng = random.Random(seed)
    chain = Chain(training_sentences())
    out.mkdir(parents=True, exist_ok=True)
    sources = ["Kyodo", "Reuters", "AP", "AFP", "TASS", "Xinhua"]
    docs: dict[str, list[list[str]]] = {}
    texts: dict[str, str] = {}
    clusters: dict[str, list[str]] = {}
    reused = []
    copies = []
    for k in range(n):
        name = f"a{k:06d}.txt"
        header = f"• {rng.choice(sources)}"
        footer = rng.choice(["SHARE", "Subscribe for more news.", "(Reporting by staff)"])
        roll = rng.random()
        originals = [d for d in docs if d in clusters]
        if originals and roll < 0.03:  # exact copy
            src = rng.choice(originals)
            paragraphs = docs[src]
            text = render(paragraphs, header, footer)
            clusters[src].append(name)
            copies.append({"src": src, "dst": name, "kind": "exact"})
        elif originals and roll < 0.08:  # near-duplicate
            src = rng.choice(originals)
            paragraphs = docs[src]
            share = rng.uniform(0.01, 0.10)
            text = render([[edit_words(" ".join(p), share, rng)] for p in paragraphs],
                          header, footer)
            clusters[src].append(name)
            copies.append({"src": src, "dst": name, "kind": f"edited {share:.1%}"})
        elif originals and roll < 0.11:  # truncated copy
            src = rng.choice(originals)
            paragraphs = docs[src]
            keep = max(2, int(len(paragraphs) * rng.uniform(0.3, 0.7)))
            paragraphs = paragraphs[:keep]
            text = render(paragraphs, header, footer)
            clusters[src].append(name)
            copies.append({"src": src, "dst": name, "kind": "truncated"})
        else:
            paragraphs = original(chain, rng)
            if originals and roll < 0.21:  # reuses reworded sentences of an earlier article
                src = rng.choice(originals)
                src_sentences = [s for p in docs[src] for s in p]
                for s in rng.sample(src_sentences, min(len(src_sentences), rng.randint(2, 4))):
                    new = reword(s, rng)
                    at = rng.randrange(len(paragraphs))
                    paragraphs[at] = [*paragraphs[at], new]
                    reused.append({"src": src, "src_text": s, "dst": name, "dst_text": new})
            text = render(paragraphs, header, footer)
            clusters[name] = [name]
        docs[name] = paragraphs
        texts[name] = text
        (out / name).write_text(text, encoding="utf-8")
    truth = {"n": n, "seed": seed,
             "clusters": sorted(sorted(c) for c in clusters.values() if len(c) > 1),
             "copies": copies, "reused": reused}
    (out / "truth.json").write_text(json.dumps(truth, indent=1), encoding="utf-8")
    return truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    truth = make(args.out, args.n, args.seed)
    copies = sum(len(c) - 1 for c in truth["clusters"])
    print(f"wrote {args.n} articles to {args.out}: {len(truth['clusters'])} clusters "
          f"({copies} copies), {len(truth['reused'])} reused sentences")


if __name__ == "__main__":
    main()
