"""The layout's rules, read from the code with `ast`: imports point one way and no module-level cycle exists.

entry points (web, socket_mode, cron, rq_settings/worker, __main__) -> jobs -> flows -> domain; flows reach
Redis, RQ, Slack and X only through bot/adapters; the domain is pure; the stand-ins and the bench stay out of
the product. Print the graph with `python -m tests.test_architecture` (`--all`: with imports inside functions).
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOT = ROOT / "bot"

# What flows and the domain must not import: I/O belongs to bot/adapters, job functions to the entry points.
IO_LIBRARIES = ("rq", "redis", "slack_sdk", "slack_bolt", "tweepy")
NOT_IN_FLOWS = (*IO_LIBRARIES, "bot.jobs", "bot.jobs_timers")
# The pure libraries the domain may use besides the standard library.
DOMAIN_LIBRARIES = ("twitter_text", "emoji", "ahocorasick", "holidays")
# Only these entry points may start the dev-only packages (stand-ins, demo, playground, bench).
DEV_ONLY = ("sandbox", "bench")
DEV_ENTRY_POINTS = ("bot.__main__", "bot.launcher")  # `python -m bot run | bench`


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def bot_modules(packages: tuple[str, ...] = ("bot",)) -> dict[str, Path]:
    return {module_name(p): p for pkg in packages if (ROOT / pkg).is_dir() for p in sorted((ROOT / pkg).rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _absolute(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    is_package = (ROOT / Path(*base) / "__init__.py").exists()
    base = base[: len(base) - node.level + (1 if is_package else 0)]
    return ".".join([*base, node.module] if node.module else base)


def imports(module: str, path: Path, *, module_level: bool) -> Iterator[tuple[int, str]]:
    """(line, imported module) for each import; module-level only (TYPE_CHECKING blocks excluded) or all."""
    known = bot_modules(("bot", *DEV_ONLY))

    def visit(nodes: list[ast.stmt]) -> Iterator[tuple[int, str]]:
        for node in nodes:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield node.lineno, alias.name
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(module, node)
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    yield node.lineno, sub if sub in known else base
            elif isinstance(node, ast.If) and _is_type_checking(node.test):
                if not module_level:
                    yield from visit(node.body)
                yield from visit(node.orelse)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if not module_level:
                    yield from visit(node.body)
            else:
                for field in ("body", "orelse", "finalbody", "handlers"):
                    inner = getattr(node, field, None)
                    if isinstance(inner, list):
                        yield from visit([n for n in inner if isinstance(n, ast.stmt)] +
                                         [s for h in inner if isinstance(h, ast.ExceptHandler) for s in h.body])

    tree = ast.parse(path.read_text(encoding="utf-8"))
    yield from visit(tree.body)


def _starts(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def graph(packages: tuple[str, ...] = ("bot",), module_level: bool = True) -> dict[str, set[str]]:
    """The packages' modules and the modules of theirs each imports (at module level, or anywhere)."""
    mods = bot_modules(packages)
    return {m: {name for _, name in imports(m, p, module_level=module_level) if name in mods and name != m}
            for m, p in mods.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10000))

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            connect(v)
    return found


def _violations(room: str, forbidden: tuple[str, ...], *, module_level: bool = False) -> list[str]:
    return [f"{m} (line {line}) imports {name}"
            for m, p in bot_modules().items() if m == room or m.startswith(room + ".")
            for line, name in imports(m, p, module_level=module_level) if _starts(name, forbidden)]


def test_flows_reach_io_only_through_adapters() -> None:
    assert _violations("bot.flows", NOT_IN_FLOWS) == []


def test_domain_imports_no_io_and_no_jobs() -> None:
    assert _violations("bot.domain", NOT_IN_FLOWS) == []


def test_domain_imports_only_the_domain_stdlib_and_pure_libraries() -> None:
    allowed = set(sys.stdlib_module_names) | {"__future__"}
    wrong = [f"{m} (line {line}) imports {name}"
             for m, p in bot_modules().items() if m.startswith("bot.domain")
             for line, name in imports(m, p, module_level=False)
             if name.split(".")[0] not in allowed and not _starts(name, ("bot.domain", *DOMAIN_LIBRARIES))]
    assert wrong == []


def test_product_imports_dev_packages_only_from_dev_entry_points() -> None:
    wrong = [f"{m} (line {line}) imports {name}"
             for m, p in bot_modules().items() if m not in DEV_ENTRY_POINTS
             for line, name in imports(m, p, module_level=False)
             if _starts(name, DEV_ONLY) or _starts(name, tuple(f"bot.{d}" for d in DEV_ONLY))]
    assert wrong == []


def test_dev_packages_live_outside_the_product() -> None:
    assert not any((BOT / d).exists() for d in DEV_ONLY), "the stand-ins and the bench live at the repo root"


def test_no_import_cycle_among_bot_modules() -> None:
    assert cycles(graph()) == []


def test_no_cycle_even_through_imports_inside_functions() -> None:
    """An import inside a function must not be a way round a cycle (the launcher and the demo, the flows)."""
    assert cycles(graph(("bot", *DEV_ONLY), module_level=False)) == []


def test_the_context_is_built_at_the_edges_and_passed_down() -> None:
    """Flows, the domain and the adapters take a Context (or less); only entry points and jobs build one."""
    reaching = [m for m, p in bot_modules().items()
                if m.startswith(("bot.flows", "bot.domain", "bot.adapters")) and "get_context" in p.read_text()]
    assert reaching == []


def test_an_import_inside_a_function_says_why() -> None:
    """Allowed only to keep start-up light (or a dev-only package out of the product), with its reason."""
    silent = []
    for m, p in bot_modules().items():
        lines = p.read_text(encoding="utf-8").splitlines()
        for func in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(func):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    last = node.end_lineno or node.lineno
                    said = lines[max(0, node.lineno - 2):last]  # the line above and the import itself
                    if not any("#" in line for line in said):
                        silent.append(f"{m}:{node.lineno}")
    assert silent == []


# Block Kit and mrkdwn belong to bot/adapters (slack, slack_blocks, slack_syntax): flows pass sentences and data.
BLOCK_KIT_TYPES = frozenset({"section", "header", "divider", "context", "actions", "mrkdwn", "plain_text", "home",
                             "modal", "button", "image", "input", "static_select", "rich_text"})
BLOCK_KIT_KEYS = frozenset({"blocks", "elements", "accessory", "response_type"})
# *{bold}*, <{url}|…>, <@U…>, <#C…>, <!here> (not <!doctype>)
MRKDWN = re.compile(r"\*\{\}\*|<\{\}|<[@#]|<!(?:here|channel|everyone|subteam|date)")


def slack_syntax_in(source: str) -> list[tuple[int, str]]:
    """(line, what) for each Block Kit dict literal or piece of mrkdwn syntax built in this source."""
    tree = ast.parse(source)
    skip = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)}
    skip |= {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}  # seen whole
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if not isinstance(key, ast.Constant):
                    continue
                if key.value in BLOCK_KIT_KEYS:
                    found.append((node.lineno, f"a {key.value!r} key"))
                elif key.value == "type" and isinstance(value, ast.Constant) and value.value in BLOCK_KIT_TYPES:
                    found.append((node.lineno, f"a Block Kit {value.value!r}"))
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
            if MRKDWN.search(str(text)):
                found.append((node.lineno, f"mrkdwn in f{text!r}"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            if MRKDWN.search(node.value):
                found.append((node.lineno, f"mrkdwn in {node.value!r}"))
    return found


def test_flows_build_no_block_kit_and_no_mrkdwn() -> None:
    """App Home, the summary and the slash answers describe what to show; bot/adapters/slack_blocks builds it."""
    wrong = [f"{m}:{line}: {what}" for m, p in bot_modules().items() if m.startswith("bot.flows")
             for line, what in slack_syntax_in(p.read_text(encoding="utf-8"))]
    assert wrong == []


def test_the_slack_syntax_rule_sees_blocks_and_mrkdwn() -> None:
    flow = """
def view(name, user, url):
    \"\"\"A docstring may say <@U…> and *bold*.\"\"\"
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": f"*{name}*"}}]
    return {"blocks": blocks, "who": f"<@{user}>", "link": f"<{url}|{name}>", "ok": {"type": "answered"}}
"""
    assert sorted(what for _, what in slack_syntax_in(flow)) == sorted([
        "a Block Kit 'section'", "a Block Kit 'mrkdwn'", "mrkdwn in f'*{}*'", "a 'blocks' key",
        "mrkdwn in f'<@{}>'", "mrkdwn in f'<{}|{}>'"])


def test_cycle_finder_sees_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


if __name__ == "__main__":  # the graph, room by room, and any cycle
    g = graph(("bot", *DEV_ONLY), module_level="--all" not in sys.argv)
    def room(m: str) -> str:
        parts = m.split(".")
        return ".".join(parts[:2]) if len(parts) > 2 or m in ("bot.flows", "bot.domain", "bot.adapters") else \
            parts[0] if parts[0] in DEV_ONLY else m
    arrows: dict[str, set[str]] = {}
    for m, targets in g.items():
        for t in targets:
            if room(t) != room(m):
                arrows.setdefault(room(m), set()).add(room(t))
    for r in sorted(arrows):
        print(f"{r} -> {', '.join(sorted(arrows[r]))}")
    for c in cycles(g):
        print("cycle:", " <-> ".join(c))
