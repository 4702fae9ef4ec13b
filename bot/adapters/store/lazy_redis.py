"""redis-py for the store's writers, imported when a name of it is first used.

`python -m bot report` reads through bot/adapters/resp.py and must not pay redis-py's import (~150 ms, most of
the command's time) just because the store's modules name `redis.WatchError` in the writers it never runs."""

from __future__ import annotations

import importlib
from typing import Any


class _LazyRedis:
    def __getattr__(self, name: str) -> Any:
        return getattr(importlib.import_module("redis"), name)


redis: Any = _LazyRedis()
