"""A cache of the validated routing for short-lived commands (`python -m bot report`): parsed once per file.

Kept with the file's bytes and the code that read it (the routing modules, the domain they build, Python's
version), so a changed file or a new release parses afresh. Kept under ESCALATOR_CACHE_DIR (default
$XDG_CACHE_HOME/escalator or ~/.cache/escalator) in a directory only its owner may open, as pickles only its
owner may write: a pickle runs code when loaded, so a cache file anyone else could have written is ignored.
`check`, the web process, the workers and cron never use it: they read and validate the file every time.
Anything wrong with the cache (unreadable, stale format, no home directory) falls back to reading the file.
"""

from __future__ import annotations

import copyreg
import os
import pickle
import stat
import sys
import zlib
from pathlib import Path
from types import MappingProxyType
from typing import Any

from bot.routing import Routing, load_routing
from bot.routing_schema import MAX_BYTES

_BOT = Path(__file__).resolve().parent
# The code whose output is cached: a change to any of these makes every cached routing stale (every routing*.py,
# so a module the parser grows, like routing_accounts.py, is counted without being listed here).
_CODE = ("routing*.py", "errors.py", "domain/*.py")


def _proxy(items: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    return MappingProxyType(items)


copyreg.pickle(MappingProxyType, lambda m: (_proxy, (dict(m),)))  # Routing keeps its mappings read-only


def cache_dir() -> Path:
    explicit = os.environ.get("ESCALATOR_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "escalator"


def code_version() -> str:
    """Python's version and the size and mtime of every file of the code that builds a Routing."""
    parts = [sys.version]
    for pattern in _CODE:
        for f in sorted(_BOT.glob(pattern)):
            st = f.stat()
            parts.append(f"{f.name}:{st.st_size}:{st.st_mtime_ns}")
    return "\n".join(parts)


def _owned_by_me_only(st: os.stat_result, directory: bool) -> bool:
    mode = stat.S_IMODE(st.st_mode)
    return st.st_uid == os.getuid() and not mode & (0o077 if directory else 0o022)


def cached_routing(path: str | Path) -> Routing:
    """routing.load_routing(path), from the cache when this file and this code were read before."""
    try:
        if Path(path).stat().st_size > MAX_BYTES:
            return load_routing(path)  # refused there, with its message
        data = Path(path).read_bytes()
    except OSError:
        return load_routing(path)  # says what is wrong with the file
    # The entry is named by checksums and holds the file's bytes and the code version it was read with, which
    # must equal this file's and this code's: a checksum collision is a miss, never a wrong routing.
    stamp = (data, code_version(), str(path))
    folder = cache_dir()
    entry = folder / f"routing-{zlib.crc32(data):08x}{zlib.crc32(stamp[1].encode() + stamp[2].encode()):08x}.pickle"
    found = _read(folder, entry)
    if found is not None and found[0] == stamp:
        return found[1]
    routing = load_routing(path)
    _write(folder, entry, (stamp, routing))
    return routing


def _read(folder: Path, entry: Path) -> tuple[Any, Routing] | None:
    try:
        if not _owned_by_me_only(folder.stat(), True):
            return None
        fd = os.open(entry, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as f:
            if not _owned_by_me_only(os.fstat(f.fileno()), False):
                return None
            found = pickle.load(f)  # noqa: S301 - our own file, in our own directory (checked above)
    except Exception:  # noqa: BLE001 - a broken or stale entry is a cache miss
        return None
    ok = isinstance(found, tuple) and len(found) == 2 and isinstance(found[1], Routing)
    return found if ok else None


def _write(folder: Path, entry: Path, record: tuple[Any, Routing]) -> None:
    tmp = entry.with_suffix(f".{os.getpid()}.tmp")
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _owned_by_me_only(folder.stat(), True):
            return
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as f:
            pickle.dump(record, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, entry)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        try:
            tmp.unlink()
        except OSError:
            pass
