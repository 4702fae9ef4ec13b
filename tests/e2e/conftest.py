from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.harness import Bot

ROUTING = Path(__file__).resolve().parent.parent / "data" / "routing.yaml"


@pytest.fixture
def start_bot(tmp_path: Path, redis_url: str, slack, x) -> Iterator[Callable[..., Bot]]:
    """Start the Procfile processes with a routing file (path or YAML text) and extra environment."""
    bots: list[Bot] = []

    def start(routing: str | Path = ROUTING, env: dict[str, str] | None = None, *names: str) -> Bot:
        bot = Bot(tmp_path, redis_url, slack, x, routing, env).start(*names)
        bots.append(bot)
        return bot

    yield start
    for bot in bots:
        bot.stop()
        print(bot.logs())  # shown by pytest when the test failed


@pytest.fixture
def bot(start_bot: Callable[..., Bot]) -> Bot:
    return start_bot()
