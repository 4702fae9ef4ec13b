"""Figure 3: classifications per second with 500 departments' Korean keywords, on one core."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import ahocorasick

from bench.data import departments, mention_texts, routing_yaml
from bot.domain.matcher import _automaton_key, bench_matcher
from bot.routing import parse_routing

ROUNDS = 5


@dataclass(frozen=True)
class RoutingResult:
    departments: int
    route_per_s: float  # Routing.route: department, fast-track and policy (best of interleaved rounds)
    matcher_per_s: float  # bench_matcher(): KeywordMatcher.match alone
    floor_per_s: float  # normalise + one bare pyahocorasick pass over the same texts, hits discarded


def _rate(fn: Callable[[str], object], texts: list[str], rounds: int) -> float:
    started = time.perf_counter()
    for n in range(rounds):
        fn(texts[n % len(texts)])
    return rounds / (time.perf_counter() - started)


def run(count: int = 500, rounds: int = 50_000) -> RoutingResult:
    depts = departments(count, 10, seed=17)
    routing = parse_routing(routing_yaml(depts), "bench-routing.yaml")
    texts = mention_texts(depts, 200, seed=23)
    automaton = ahocorasick.Automaton()
    for d in depts:
        for keyword in d.keywords:
            automaton.add_word(_automaton_key(keyword), len(keyword))
    automaton.make_automaton()

    def bare(text: str) -> None:
        for _ in automaton.iter(_automaton_key(text)):
            pass

    # Interleaved rounds, best of each: a busy neighbour slows one round, not one contestant.
    best = [0.0, 0.0, 0.0]
    for _ in range(ROUNDS):
        rates = (_rate(routing.route, texts, rounds // ROUNDS), bench_matcher(groups=count, texts=rounds // ROUNDS),
                 _rate(bare, texts, rounds // ROUNDS))
        best = [max(b, r) for b, r in zip(best, rates, strict=True)]
    return RoutingResult(count, *best)
