"""Local stand-ins for the Slack Web API and the X API v2, for the real slack_sdk and tweepy clients.

    slack = SlackStandIn(signing_secret=..., events_url="http://127.0.0.1:3000/slack/events")
    WebClient(token=slack.bot_token, base_url=slack.start() + "/api/")
    x = XStandIn()
    make_tweepy_client(x.start(), bearer, key, secret, token, token_secret)  # bot.adapters.x_session

Both keep their state in memory, validate traffic against the specs in $ESCALATOR_SPECS when it is set, and
expose a JSON control plane under /_sandbox/ for other processes; `python -m sandbox` runs them on their own.
"""

from sandbox.signer import sign
from sandbox.slack_api import SlackStandIn
from sandbox.slack_events import Delivery, SentMessage
from sandbox.specs import specs_dir
from sandbox.x_api import XStandIn

__all__ = ["Delivery", "SentMessage", "SlackStandIn", "XStandIn", "sign", "specs_dir"]
