"""Who someone is in routing's terms: one function resolves user ids and Slack user groups (S…) everywhere."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from bot.adapters.slack import SlackError
from bot.adapters.slack_syntax import people_or_groups
from bot.context import Context

log = logging.getLogger(__name__)


def may_answer(ctx: Context, department_id: str | None, channel: str, user: str) -> bool:
    """Who may answer on X for a department: its `staff` list, or without one anyone in the channel."""
    dept = ctx.routing.department_or_none(department_id)
    if dept is not None and dept.staff is not None:
        return user in dept.staff
    if ctx.store.known_member(channel, user):
        return True  # asked within the last minute: a reply does not wait a Slack round trip for it again
    member = ctx.slack.is_member(channel, user)
    if member:
        ctx.store.remember_member(channel, user)
    return member


def is_among(ctx: Context, user: str, ids: Iterable[str] | None) -> bool:
    """Whether user is one of ids, directly or as a member of a listed user group (asked of Slack)."""
    listed = set(ids or ())
    if user in listed:
        return True
    for group in sorted(i for i in listed if i.startswith("S")):
        try:
            if user in ctx.slack.usergroup_members(group):
                return True
        except SlackError as exc:  # no usergroups:read scope, or a plan without user groups
            log.warning("cannot list user group %s: %s", group, exc)
    return False


def is_operator(ctx: Context, user: str) -> bool:
    """Routing's `operators` (absent: anyone)."""
    return ctx.routing.operators is None or is_among(ctx, user, ctx.routing.operators)


def operator_mentions(ctx: Context) -> str:
    """The operators as Slack shows them: people and user groups, for "ask one of …" sentences."""
    return people_or_groups(ctx.routing.operators or ())
