"""python -m sandbox: run the Slack and X stand-ins until killed; print their URLs as one JSON line."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading

from sandbox.slack_api import SlackStandIn
from sandbox.x_api import XStandIn

log = logging.getLogger(__name__)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--slack-port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--x-port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--events-url", default=None, help="where Slack events go (the bot's /slack/events)")
    parser.add_argument("--signing-secret", default="sandbox-secret")
    parser.add_argument("--bot-token", default="xoxb-sandbox")
    parser.add_argument("--rate-limit-per-channel", type=float, default=None)
    parser.add_argument("--no-echo", action="store_true",
                        help="do not deliver the bot's own messages as events")
    parser.add_argument("--x-username", default="escalator_kr")
    parser.add_argument("--x-user-id", default="1000")
    parser.add_argument("--log-level", default="WARNING")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    slack = SlackStandIn(signing_secret=args.signing_secret, bot_token=args.bot_token,
                         events_url=args.events_url, rate_limit_per_channel=args.rate_limit_per_channel,
                         echo_bot_messages=not args.no_echo)
    x = XStandIn(account_username=args.x_username, account_id=args.x_user_id)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    urls = {"slack": slack.start(args.host, args.slack_port), "x": x.start(args.host, args.x_port)}
    print(json.dumps(urls), flush=True)
    stopped.wait()
    slack.stop()
    x.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
