"""Block Kit and mrkdwn for the views flows describe in plain data: App Home, the managers' summary, slash
command answers. Flows pass sentences and figures; the Slack shapes (blocks, bold, links, quotes) are built here.

(The ticket message and the storm messages are built in bot/adapters/slack.py.)
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Sequence
from typing import Any

SECTION_LIMIT = 3000  # Slack's limit for a section block's text
HEADER_LIMIT = 150  # and for a header's
VIEW_BLOCKS = 100  # a Home view holds at most this many blocks


# -- mrkdwn ----------------------------------------------------------------------------------------------------

def escape(text: str) -> str:
    """Slack wants exactly &, < and > escaped: what html.escape does without quotes."""
    return html.escape(text, quote=False)


def bold(text: str) -> str:
    return f"*{text}*"


def link(url: str, label: str) -> str:
    """A link with an (already escaped) label."""
    return f"<{url}|{label}>"


def quote(text: str) -> str:
    """A quoted line (the text already escaped)."""
    return f">{text}"


def code_list(words: Iterable[str]) -> str:
    """Words a person may type, each as code: `wibro`, `iphone`."""
    return ", ".join(f"`{w}`" for w in words)


def ephemeral(text: str) -> dict[str, Any]:
    """A slash command's answer only its caller sees."""
    return {"response_type": "ephemeral", "text": text}


# -- blocks ----------------------------------------------------------------------------------------------------

def header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text[:HEADER_LIMIT]}}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def divider() -> dict[str, Any]:
    return {"type": "divider"}


def context(lines: Sequence[str]) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": "\n".join(lines)}]}


def chunks(lines: Sequence[str], limit: int = SECTION_LIMIT) -> list[str]:
    """Join lines into texts no longer than Slack allows for one section (a longer line is cut)."""
    out: list[str] = []
    for line in lines:
        line = line[:limit]
        if out and len(out[-1]) + 1 + len(line) <= limit:
            out[-1] += "\n" + line
        else:
            out.append(line)
    return out


def summary_blocks(title: str, overview: Sequence[str], departments: Sequence[Sequence[str]],
                   rest: Sequence[Sequence[str]], note: str) -> list[dict[str, Any]]:
    """The managers' summary: its title, the overview, the departments (a blank line apart), then each of
    the rest in its own sections, and a closing note; every section within Slack's limit."""
    blocks = [header(title), *(section(text) for text in chunks(overview)), divider()]
    dept_lines = [line for i, dept in enumerate(departments) for line in ([""] if i else []) + list(dept)]
    blocks += [section(text) for text in chunks(dept_lines)]
    blocks.append(divider())
    blocks += [section(text) for part in rest for text in chunks(part)]
    blocks.append(context([note]))
    return blocks


def fitted(head: str, lines: Sequence[str], count: int, more: Callable[[int], str],
           limit: int = SECTION_LIMIT) -> str:
    """A section's text: `head`, as many whole lines as fit, then `more(n)` for the n of `count` not shown."""
    shown: list[str] = []
    for line in lines:
        rest = count - len(shown) - 1
        tail = len(more(rest)) + 1 if rest else 0
        if len("\n".join([head, *shown, line])) + tail > limit:
            break
        shown.append(line)
    hidden = count - len(shown)
    return "\n".join([head, *shown, *([more(hidden)] if hidden else [])])


def home_view(title: str, today: Sequence[str], open_title: str, groups: Sequence[tuple[str, int, Sequence[str]]],
              none: str, more: Callable[[int], str], footer: Sequence[str]) -> dict[str, Any]:
    """The App Home tab: today's figures (a titled list of lines), then the open tickets per department
    ((escaped name, how many are open, a line for each listed: the rest are counted with `more`), `none` when
    there are none, and a footer."""
    blocks: list[dict[str, Any]] = [header(title), section("\n".join([bold(today[0]), *today[1:]])), divider(),
                                    section(bold(open_title))]
    if not groups:
        blocks.append(context([none]))
    for name, count, lines in groups:
        blocks.append(section(fitted(f"{bold(name)} ({count})", lines, count, more)))
    if footer:
        blocks = blocks[:VIEW_BLOCKS - 2] + [divider(), context(footer)]
    return {"type": "home", "blocks": blocks[:VIEW_BLOCKS]}
