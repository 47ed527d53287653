"""Where outputs and caches go (``pipeline.paths``): decided when asked, from the current
folder and ``LECTURE_CACHE_DIR``; never the source tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import paths
from pipeline.options import RenderOptions
from pipeline.planning import preflight
from pipeline.planning.manifest import QUALITIES

TINY = QUALITIES["tiny"]


def test_output_follows_the_current_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert paths.default_out() == tmp_path / "output"
    assert preflight.DEFAULT_OUT == tmp_path / "output"  # the old name, read now
    assert RenderOptions(TINY).out_root == tmp_path / "output"
    assert RenderOptions(TINY).cache_dir == tmp_path / "output" / ".cache"
    assert preflight.output_root(None) == tmp_path / "output"
    assert (tmp_path / "output").is_dir()


def test_one_variable_moves_every_cache(tmp_path: Path, monkeypatch) -> None:
    from diffusion import mnist
    from pipeline.rendering import fingerprint

    monkeypatch.setenv(paths.CACHE_ENV, str(tmp_path / "c"))
    assert paths.cache_root() == tmp_path / "c"
    assert paths.speech_cache() == tmp_path / "c" / "speech"
    assert RenderOptions(TINY).speech_cache == tmp_path / "c" / "speech"
    assert fingerprint.user_cache() == tmp_path / "c"
    assert mnist.cache_dir() == tmp_path / "c"
    assert paths.cache_dir("x", "y") == tmp_path / "c" / "x" / "y"
    assert (tmp_path / "c" / "x" / "y").is_dir()


def test_default_cache_is_the_user_cache_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv(paths.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    from platformdirs import user_cache_dir

    assert paths.cache_root() == Path(user_cache_dir("diffusion-lectures", appauthor=False))
    assert paths.cache_root().is_relative_to(tmp_path)


def test_cache_never_inside_the_source_tree(monkeypatch) -> None:
    monkeypatch.delenv(paths.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(paths.SOURCE_ROOT / "cache-inside-repo"))
    assert not paths.cache_root().resolve().is_relative_to(paths.SOURCE_ROOT)
    assert not (paths.SOURCE_ROOT / "cache-inside-repo").exists()


def test_the_checkout_is_found_and_its_lectures_shipped() -> None:
    root = paths.checkout_root()
    assert root is not None and (root / "pyproject.toml").is_file()
    assert paths.shipped_lectures() == root / "config"


@pytest.mark.parametrize("name", ["DEFAULT_OUT", "SPEECH_CACHE", "CONFIG_DIR"])
def test_old_constants_are_computed_when_read(name: str, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(paths.CACHE_ENV, str(tmp_path / "c"))
    value = getattr(paths, name)
    assert isinstance(value, Path)
    if name != "CONFIG_DIR":
        assert value.is_relative_to(tmp_path)
    with pytest.raises(AttributeError):
        paths.NO_SUCH_PATH  # noqa: B018
