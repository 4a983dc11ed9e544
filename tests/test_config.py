"""Settings: defaults, validation with the value in the message, file then options."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsdiff.config import Settings, load_settings, make_settings
from newsdiff.errors import ConfigError


def test_defaults_are_valid_and_fixed() -> None:
    s = Settings()
    assert (s.seed, s.num_perm) == (1, 128)
    assert s.sketch_params()["shingle_size"] == s.shingle_size


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"num_perm": 5}, "setting num_perm=5: must be an integer from 16 to 1024"),
        ({"dup_jaccard": 1.5}, "setting dup_jaccard=1.5: must be a number in (0, 1]"),
        ({"shingle_size": "3"}, "setting shingle_size must be an integer, got '3'"),
        ({"colour": "red"}, "unknown setting 'colour'"),
        ({"boilerplate_patterns": ["("]}, "boilerplate pattern '('"),
        ({"max_file_mb": 10**9}, "must be a number in (0, 64]"),
    ],
)
def test_absurd_values_are_refused_with_the_value_named(overrides, message) -> None:
    with pytest.raises(ConfigError) as err:
        make_settings(overrides, origin="test.toml")
    assert str(err.value).startswith("test.toml: ")
    assert message in str(err.value)


def test_explicit_config_file_and_option_precedence(tmp_path: Path) -> None:
    cfg = tmp_path / "custom.toml"
    cfg.write_text("[tool.newsdiff]\nnum_perm = 64\nmatch_min_words = 7\n", encoding="utf-8")
    s = load_settings(config=cfg, cwd=tmp_path, overrides={"match_min_words": 9})
    assert (s.num_perm, s.match_min_words) == (64, 9)
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(config=tmp_path / "missing.toml")
    (tmp_path / "broken.toml").write_text("num_perm = = 3", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot read config"):
        load_settings(config=tmp_path / "broken.toml")
