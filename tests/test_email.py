"""The email adapter against a real local SMTP server (aiosmtpd): the URL, MIME layout, login, failures."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from bot.adapters.email import EmailConfigError, EmailError, html_message, parse_smtp_url, send

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


class Inbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.original_content, policy=policy.default)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), msg))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def smtp_server(**smtp_options: Any) -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on localhost for one test: (its inbox, its port)."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **smtp_options)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_smtp_url_forms() -> None:
    plain = parse_smtp_url("smtp://mail.example.com")
    assert (plain.host, plain.port, plain.starttls, plain.tls, plain.username) == (
        "mail.example.com", 25, False, False, None)
    assert plain.sender == "escalator@mail.example.com"
    tls = parse_smtp_url("smtp://reports%40example.com:p%40ss@mail.example.com?starttls=true")
    assert (tls.port, tls.starttls, tls.username, tls.password, tls.sender) == (
        587, True, "reports@example.com", "p@ss", "reports@example.com")
    assert parse_smtp_url("smtps://u:p@mail.example.com").port == 465
    assert parse_smtp_url("smtp://u:p@h:2525?from=ops@example.com").sender == "ops@example.com"
    assert "p@ss" not in repr(tls)


@pytest.mark.parametrize("url, words", [
    ("http://mail.example.com", "smtp://"),
    ("smtp://u:secret@h:notaport", "port"),
    ("smtp://u:secret@h?tls=1", "unknown options: tls"),
    ("smtp://", "names no host"),
])
def test_bad_smtp_url_is_named_without_the_password(url: str, words: str) -> None:
    with pytest.raises(EmailConfigError) as caught:
        parse_smtp_url(url)
    assert words in str(caught.value) and "secret" not in str(caught.value)


def test_html_message_is_alternative_with_related_inline_images() -> None:
    msg = html_message("bot@example.com", ["a@example.com", "b@example.com"], "요약", "plain",
                       '<p>hi</p><img src="cid:chart">', {"chart": PNG})
    assert msg.get_content_type() == "multipart/alternative"
    text, related = msg.iter_parts()
    assert text.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html_part, image = related.iter_parts()
    assert html_part.get_content_type() == "text/html" and "cid:chart" in html_part.get_content()
    assert image["Content-ID"] == "<chart>" and image.get_content() == PNG
    assert msg["To"] == "a@example.com, b@example.com"


def test_send_logs_in_and_delivers() -> None:
    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth: Any) -> AuthResult:
        ok = isinstance(auth, LoginPassword) and (auth.login, auth.password) == (b"reports", b"p@ss w")
        return AuthResult(success=ok, handled=False)

    with smtp_server(authenticator=authenticate, auth_require_tls=False) as (inbox, port):
        config = parse_smtp_url(f"smtp://reports:p%40ss%20w@127.0.0.1:{port}?from=reports@example.com")
        send(config, html_message(config.sender, ["boss@example.com"], "Subject", "t", "<p>h</p>", {}))
        bad = parse_smtp_url(f"smtp://reports:wrong@127.0.0.1:{port}")
        with pytest.raises(EmailError, match="refused the login"):
            send(bad, html_message(bad.sender, ["boss@example.com"], "Subject", "t", "<p>h</p>", {}))
    [(sender, rcpts, msg)] = inbox.received
    assert (sender, rcpts, msg["Subject"]) == ("reports@example.com", ["boss@example.com"], "Subject")


def test_unreachable_server_is_a_clear_error() -> None:
    config = parse_smtp_url(f"smtp://u:secret@127.0.0.1:{free_port()}?timeout=2")
    with pytest.raises(EmailError) as caught:
        send(config, html_message(config.sender, ["x@example.com"], "s", "t", "<p>h</p>", {}))
    assert "could not send email through 127.0.0.1" in str(caught.value)
    assert "secret" not in str(caught.value)
