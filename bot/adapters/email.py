"""Email through smtplib: SMTP_URL -> SmtpConfig, a summary -> an HTML message with inline images, sending.

SMTP_URL forms:
- `smtp://user:pass@host:port` plain SMTP (port 25 by default); add `?starttls=true` to upgrade with STARTTLS
  (port 587 by default). `smtps://user:pass@host` connects over TLS from the start (port 465 by default).
- `?from=reports@example.com` sets the sender; without it, the user name when it is an address, else
  `escalator@<host>`.
User and password are percent-decoded (a `@` in a password is written `%40`); they never reach an error
message.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

from bot.errors import ConfigError, ExternalServiceError

TRUE = ("1", "true", "yes", "on")


class EmailConfigError(ConfigError):
    """SMTP_URL cannot be used."""


class EmailError(ExternalServiceError):
    """The SMTP server could not be reached or refused the message."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    tls: bool = False  # smtps: TLS from the first byte
    timeout: float = 20.0


def parse_smtp_url(url: str) -> SmtpConfig:
    """Read SMTP_URL; EmailConfigError names what is wrong without repeating the URL (it holds a password)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise EmailConfigError("SMTP_URL must start with smtp:// or smtps://")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    unknown = set(query) - {"starttls", "from", "timeout"}
    if unknown:
        raise EmailConfigError(f"SMTP_URL has unknown options: {', '.join(sorted(unknown))} "
                               "(known: starttls, from, timeout)")
    try:
        port = parts.port
    except ValueError:
        raise EmailConfigError("SMTP_URL has a port that is not a number") from None
    if not parts.hostname:
        raise EmailConfigError("SMTP_URL names no host, e.g. smtp://user:pass@mail.example.com:587?starttls=true")
    tls = parts.scheme == "smtps"
    starttls = query.get("starttls", "").lower() in TRUE
    username = unquote(parts.username) if parts.username else None
    sender = query.get("from") or (username if username and "@" in username
                                   else f"escalator@{parts.hostname}")
    password = unquote(parts.password) if parts.password else None
    return SmtpConfig(host=parts.hostname, port=port or (465 if tls else 587 if starttls else 25),
                      sender=sender, username=username, password=password,
                      starttls=starttls, tls=tls, timeout=float(query.get("timeout") or 20))


def html_message(sender: str, recipients: Sequence[str], subject: str, text: str, html: str,
                 images: Mapping[str, bytes]) -> EmailMessage:
    """multipart/alternative: the plain text, then multipart/related with the HTML and its PNGs by Content-ID.

    `html` refers to each image as `cid:<name>` with the names of `images`.
    """
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    html_part = msg.get_body(("html",))
    assert html_part is not None  # just added
    for name, png in images.items():
        html_part.add_related(png, maintype="image", subtype="png", cid=f"<{name}>", filename=f"{name}.png",
                              disposition="inline")
    return msg


def send(config: SmtpConfig, msg: EmailMessage) -> None:
    """Deliver one message; EmailError says which server failed and why, and what to check."""
    where = f"{config.host}:{config.port}"
    try:
        if config.tls:
            client: smtplib.SMTP = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout,
                                                    context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        with client:
            if config.starttls:
                client.starttls(context=ssl.create_default_context())
            if config.username:
                client.login(config.username, config.password or "")
            refused = client.send_message(msg)
    except smtplib.SMTPAuthenticationError as exc:
        raise EmailError(f"SMTP server {where} refused the login ({exc.smtp_code}); check the user and "
                         "password in SMTP_URL") from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise EmailError(f"SMTP server {where} refused every recipient ({', '.join(exc.recipients)}); "
                         "check report.email in the routing file") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise EmailError(f"could not send email through {where}: {exc}; check SMTP_URL and that the "
                         "server is reachable") from None
    if refused:
        raise EmailError(f"SMTP server {where} refused some recipients ({', '.join(refused)}); the others "
                         "got the message")
