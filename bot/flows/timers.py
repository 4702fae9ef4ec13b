"""SLA timers: reminders, breaches and the escalation chain (filled in by the SLA work)."""

from __future__ import annotations

from datetime import datetime

from bot.context import Context
from bot.domain.tickets import Ticket


def on_posted(ctx: Context, ticket: Ticket, now: datetime) -> None:
    """The ticket is in Slack: start its clock."""


def on_reopened(ctx: Context, ticket: Ticket, now: datetime) -> None:
    """A customer follow-up re-opened an answered ticket."""


def on_answered(ctx: Context, ticket: Ticket, now: datetime) -> None:
    """A reply reached X: the clock stops."""
