"""Settings: one validated dataclass, filled from defaults, then a config file, then options."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError


@dataclass(frozen=True)
class Settings:
    """Every tunable of the pipeline, with the defaults tuned on the seeds.

    Attributes:
        num_perm: MinHash permutations for document and sentence sketches.
        seed: MinHash seed (fixed, so runs are reproducible).
        shingle_size: words per shingle for document near-duplicate detection.
        doc_lsh_threshold: LSH Jaccard threshold that proposes document candidates.
        dup_jaccard: exact shingle Jaccard at or above which two documents are near-duplicates.
        dup_containment: share of the smaller document's shingles found in the larger one at
            or above which it is a (truncated) copy.
        sentence_shingle_size: words per shingle inside sentence windows.
        window_step: shingles per half window: a sentence's shingles are cut into blocks of
            this many, and each two consecutive blocks are one window sketched for
            statement candidates.
        sentence_lsh_threshold: LSH Jaccard threshold that proposes sentence candidates.
        content_window_words: common content words per window of the second family of
            sentence windows (word sets, order ignored), which finds reworded passages.
        content_lsh_threshold: LSH Jaccard threshold for those content windows.
        match_min_words: aligned equal words a recurring passage must have.
        match_min_content_words: of those, words that are not function words.
        match_min_density: equal words / passage length for the passage to count.
        stopword_share: a common word found in more than this share of all sentences
            (and in more than `stopword_min_sentences`) is a corpus stopword: sharing it
            does not make two sentences a recurring statement.
        stopword_min_sentences: see `stopword_share`; keeps small corpora free of them.
        workers: processes for the heavy stages (0: one per core, at most 2; 1: none).
        max_file_mb: larger files are refused as input errors.
        boilerplate_patterns: extra regular expressions; a line that matches one fully is
            page furniture.
    """

    num_perm: int = 128
    seed: int = 1
    shingle_size: int = 3
    doc_lsh_threshold: float = 0.3
    dup_jaccard: float = 0.5
    dup_containment: float = 0.8
    sentence_shingle_size: int = 2
    window_step: int = 4
    sentence_lsh_threshold: float = 0.25
    content_window_words: int = 6
    content_lsh_threshold: float = 0.4
    match_min_words: int = 6
    match_min_content_words: int = 4
    match_min_density: float = 0.6
    stopword_share: float = 0.05
    stopword_min_sentences: int = 50
    workers: int = 0
    max_file_mb: float = 20.0
    boilerplate_patterns: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        def need(ok: bool, name: str, what: str) -> None:
            if not ok:
                raise ConfigError(f"setting {name}={getattr(self, name)!r}: must be {what}")

        need(16 <= self.num_perm <= 1024, "num_perm", "an integer from 16 to 1024")
        need(0 <= self.seed < 2**32, "seed", "an integer from 0 to 2**32-1")
        need(1 <= self.shingle_size <= 8, "shingle_size", "an integer from 1 to 8")
        need(1 <= self.sentence_shingle_size <= 6, "sentence_shingle_size", "from 1 to 6")
        need(2 <= self.window_step <= 32, "window_step", "an integer from 2 to 32")
        for name in ("doc_lsh_threshold", "dup_jaccard", "dup_containment",
                     "sentence_lsh_threshold", "content_lsh_threshold",
                     "match_min_density"):
            need(0.0 < getattr(self, name) <= 1.0, name, "a number in (0, 1]")
        need(3 <= self.content_window_words <= 64, "content_window_words", "from 3 to 64")
        need(2 <= self.match_min_words <= 100, "match_min_words", "an integer from 2 to 100")
        need(0 <= self.match_min_content_words <= self.match_min_words,
             "match_min_content_words", "from 0 to match_min_words")
        need(0 < self.stopword_share <= 1, "stopword_share", "a number in (0, 1]")
        need(self.stopword_min_sentences >= 1, "stopword_min_sentences", "a positive integer")
        need(0 <= self.workers <= 64, "workers", "an integer from 0 to 64")
        # Analysis takes about 170 times a file's size in memory (50 MB: 8.9 GB, 2 min);
        # a larger limit would end in the out-of-memory killer, not in a clear message.
        need(0 < self.max_file_mb <= 64, "max_file_mb", "a number in (0, 64]")

    def sketch_params(self) -> dict[str, Any]:
        """The settings that decide how sketches are made (stored in an index)."""
        return {
            "num_perm": self.num_perm,
            "seed": self.seed,
            "shingle_size": self.shingle_size,
            "sentence_shingle_size": self.sentence_shingle_size,
            "window_step": self.window_step,
            "content_window_words": self.content_window_words,
        }

    def as_dict(self) -> dict[str, Any]:
        """All settings as plain JSON values."""
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v)
                for f in fields(self)}


_FIELD_TYPES = {f.name: f.type for f in fields(Settings)}


def _coerce(name: str, value: Any, origin: str) -> Any:
    kind = _FIELD_TYPES[name]
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{origin}: setting {name} must be an integer, got {value!r}")
        return value
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{origin}: setting {name} must be a number, got {value!r}")
        return float(value)
    if not isinstance(value, (list, tuple)) or not all(isinstance(x, str) for x in value):
        raise ConfigError(f"{origin}: setting {name} must be a list of strings")
    return tuple(value)


def make_settings(overrides: dict[str, Any] | None = None, origin: str = "options",
                  base: Settings | None = None) -> Settings:
    """Return `base` (or the defaults) with `overrides` applied and validated."""
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    unknown = sorted(set(overrides) - set(_FIELD_TYPES))
    if unknown:
        raise ConfigError(f"{origin}: unknown setting {unknown[0]!r}")
    values = {k: _coerce(k, v, origin) for k, v in overrides.items()}
    if "boilerplate_patterns" in values:
        import re

        for pattern in values["boilerplate_patterns"]:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ConfigError(f"{origin}: boilerplate pattern {pattern!r}: {exc}") from None
    try:
        return replace(base or Settings(), **values)
    except ConfigError as exc:
        raise ConfigError(f"{origin}: {exc}") from None


def load_settings(config: Path | None = None, cwd: Path | None = None,
                  overrides: dict[str, Any] | None = None) -> Settings:
    """Settings from `config` (or ./newsdiff.toml, or [tool.newsdiff] in ./pyproject.toml),
    then `overrides`."""
    cwd = cwd or Path.cwd()
    table: dict[str, Any] = {}
    origin = "defaults"
    candidates = [config] if config else [cwd / "newsdiff.toml", cwd / "pyproject.toml"]
    for path in candidates:
        if path is None or not path.is_file():
            if config is not None:
                raise ConfigError(f"{config}: config file not found")
            continue
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read config: {exc}") from None
        if path.name == "pyproject.toml":
            tool = data.get("tool")
            table = tool.get("newsdiff", {}) if isinstance(tool, dict) else {}
            if not table:
                continue
        else:
            tool = data.get("tool")
            table = tool.get("newsdiff", data) if isinstance(tool, dict) else data
        origin = str(path)
        break
    if not isinstance(table, dict):
        raise ConfigError(f"{origin}: [tool.newsdiff] must be a table")
    settings = make_settings(table, origin=origin)
    return make_settings(overrides, origin="options", base=settings)
