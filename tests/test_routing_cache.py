"""The report's routing cache: fresh when the file changes, never used by `check`, only its owner's files."""

from __future__ import annotations

import json
import os
import pickle
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bot.routing import parse_routing
from bot.routing_cache import cache_dir, cached_routing

ROOT = Path(__file__).resolve().parents[1]
SOURCE = (ROOT / "tests" / "data" / "routing.yaml").read_text(encoding="utf-8")


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("ESCALATOR_CACHE_DIR", str(folder))
    return folder


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("routing-*.pickle"))


def _plant(entry: Path, text: str) -> None:
    """Replace a cache entry with another routing (a stale or foreign one): whoever reads the cache sees it."""
    stamp, _ = pickle.loads(entry.read_bytes())
    entry.write_bytes(pickle.dumps((stamp, parse_routing(text, "planted.yaml"))))


def test_a_changed_file_is_read_again(tmp_path, cache):
    path = tmp_path / "routing.yaml"
    path.write_text(SOURCE, encoding="utf-8")
    first = cached_routing(path)
    assert cached_routing(path) == first and len(_entries(cache)) == 1
    path.write_text(SOURCE.replace("name: 아이폰 고객센터", "name: 아이폰 센터"), encoding="utf-8")
    changed = cached_routing(path)
    assert changed.department("iphone").name == "아이폰 센터"


def test_the_cache_is_only_its_owners(tmp_path, cache):
    path = tmp_path / "routing.yaml"
    path.write_text(SOURCE, encoding="utf-8")
    cached_routing(path)
    (entry,) = _entries(cache)
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    _plant(entry, SOURCE.replace("name: 아이폰 고객센터", "name: 심어진 이름"))
    assert cached_routing(path).department("iphone").name == "심어진 이름", "the cache is read"
    entry.chmod(0o666)  # anyone could have written it: a pickle runs code when loaded, so it is not read
    assert cached_routing(path).department("iphone").name == "아이폰 고객센터"


def test_the_default_place_is_the_users_cache_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("ESCALATOR_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "escalator"


def test_check_reads_the_file_itself_and_report_reads_the_cache(tmp_path, cache, redis_url):
    path = tmp_path / "routing.yaml"
    path.write_text(SOURCE, encoding="utf-8")
    cached_routing(path)
    (entry,) = _entries(cache)
    _plant(entry, SOURCE.replace("  - id: wibro", "  - id: planted"))
    env = {**os.environ, "ROUTING_FILE": str(path), "REDIS_URL": redis_url, "ESCALATOR_CACHE_DIR": str(cache)}
    checked = subprocess.run([sys.executable, "-m", "bot", "check"], cwd=ROOT, env=env, capture_output=True,
                             text=True)
    real = parse_routing(SOURCE)
    assert f"ok ({len(real.departments)} departments" in checked.stdout
    reported = subprocess.run([sys.executable, "-m", "bot", "report", "--format", "json"], cwd=ROOT, env=env,
                              capture_output=True, text=True, check=True)
    assert "planted" in [d["id"] for d in json.loads(reported.stdout)["departments"]], "report used the cache"


def test_the_report_command_imports_no_redis_py_rq_slack_sdk_or_tweepy(tmp_path, cache, redis_url):
    path = tmp_path / "routing.yaml"
    path.write_text(SOURCE, encoding="utf-8")
    probe = ("import sys, runpy; sys.argv = ['bot', 'report', '--format', 'json']\n"
             "try:\n    runpy.run_module('bot', run_name='__main__')\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in ('redis', 'rq', 'slack_sdk', 'tweepy') if m in sys.modules))")
    env = {**os.environ, "ROUTING_FILE": str(path), "REDIS_URL": redis_url, "ESCALATOR_CACHE_DIR": str(cache)}
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout
