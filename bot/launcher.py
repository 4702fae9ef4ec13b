"""`make run`: the whole bot under honcho. With no credentials it runs on the local stand-ins and an
embedded Redis, feeds sample mentions from the story and narrates each step."""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path

import redis

from bot.adapters.redis_url import connect
from bot.embedded_redis import RedisProcess, RedisStartError, port_is_free, start_redis
from bot.errors import BotError
from bot.logs import say
from bot.routing import load_routing
from bot.settings import REQUIRED_VARS

ROOT = Path(__file__).resolve().parent.parent
CREDENTIALS = REQUIRED_VARS  # none of them set: the sandbox run


def read_dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines, # comments, optional quotes: what honcho and most deploy tools accept."""
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        values[key.strip()] = value.strip().strip("'\"")
    return values


def procfile(path: Path) -> list[tuple[str, str]]:
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#") and ":" in line:
            name, _, cmd = line.partition(":")
            entries.append((name.strip(), cmd.strip()))
    return entries


RUN_FILE = ROOT / "data" / "run.json"
# What a running sandbox `make run` tells the CLI (`make report`, `make check`) so it finds the same Redis and
# stand-ins by itself. No secret goes here: the sandbox's tokens are the stand-ins' own.
RUN_FILE_KEYS = ("REDIS_URL", "ROUTING_FILE")


def _redis_reachable(url: str) -> bool:
    try:
        return bool(connect(url, retry_for=0, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def ensure_redis(env: dict[str, str], fresh: bool) -> RedisProcess | None:
    """Use REDIS_URL when it answers; otherwise start an embedded redis-server with AOF in ./data/redis.

    fresh: the stand-ins start empty every run, so the demo's Redis does too (its tickets would point at
    Slack messages that no longer exist, and its X cursor past every new tweet)."""
    url = env.get("REDIS_URL")
    if url and _redis_reachable(url):
        return None
    if url:
        raise RedisStartError(f"REDIS_URL {url} does not answer: start that Redis, or unset REDIS_URL (and "
                              "remove it from .env) to let `make run` start its own")
    port = 6379 if port_is_free(6379) else None
    proc = start_redis(ROOT / "data" / "redis", port=port, aof=True)
    env["REDIS_URL"] = proc.url
    if fresh:
        redis.Redis.from_url(proc.url).flushdb()
        say(f"embedded Redis on {proc.url} (data/redis; the demo starts afresh each run, `make reset` wipes it)")
    else:
        say(f"embedded Redis on {proc.url} (AOF persistence in data/redis)")
    return proc


def write_run_file(env: dict[str, str], more_keys: tuple[str, ...] = ()) -> None:
    """What the CLI needs to find this run; more_keys: the stand-ins' URLs and tokens on a sandbox run."""
    keys = RUN_FILE_KEYS + more_keys
    RUN_FILE.parent.mkdir(parents=True, exist_ok=True)
    RUN_FILE.write_text(json.dumps({"pid": os.getpid(), "env": {k: env[k] for k in keys if k in env}}),
                        encoding="utf-8")


def running_env() -> dict[str, str]:
    """The environment of the `make run` running from this checkout, if one is (else {})."""
    try:
        data = json.loads(RUN_FILE.read_text(encoding="utf-8"))
        os.kill(int(data["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return {str(k): str(v) for k, v in dict(data.get("env") or {}).items()}


def procfile_for(env: dict[str, str], quiet: bool) -> list[tuple[str, str]]:
    """The Procfile's entries; quiet (the narrated demo) drops gunicorn's access log from the story."""
    entries = procfile(ROOT / "Procfile")
    if quiet:
        entries = [(name, cmd.replace(" --access-logfile -", "")) for name, cmd in entries]
    return entries


def run(demo: bool = True, exit_after_demo: bool = False) -> int:
    try:
        return _run(demo, exit_after_demo)
    except BotError as exc:
        say(f"✗ {exc}")
        return 1
    except KeyboardInterrupt:  # Ctrl-C before the processes started
        return 130


def _run(demo: bool, exit_after_demo: bool) -> int:
    from honcho.manager import Manager  # the process manager: only `run` needs it
    from honcho.printer import Printer

    env = {**read_dotenv(ROOT / ".env"), **os.environ}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # the venv's gunicorn, rq
    env.setdefault("PORT", "3000")
    env.setdefault("ROUTING_FILE", str(ROOT / "routing.yaml"))
    sandbox = not any(env.get(k) for k in CREDENTIALS)
    redis_proc = ensure_redis(env, fresh=sandbox)
    standins = None
    playground = None
    run_file_keys: tuple[str, ...] = ()
    try:
        if sandbox:
            # dev-only packages (a checkout's, not the wheel's): `python -m bot run` checked they are here
            from sandbox.demo import SANDBOX_ENV, start_standins
            from sandbox.playground import start_playground  # dev-only, as above

            standins = start_standins(env, events_url=f"http://127.0.0.1:{env['PORT']}/slack/events")
            env.setdefault("LOG_LEVEL", "WARNING")  # let the story be read; LOG_LEVEL=INFO shows every job
            say("no Slack or X credentials found: running on the local stand-ins "
                f"(Slack {standins.slack.url}, X {standins.x.url})")
            playground = start_playground(standins.slack, standins.x, load_routing(env["ROUTING_FILE"]),
                                          int(env.get("PLAYGROUND_PORT") or 8300))
            env["PLAYGROUND_URL"] = playground.url
            run_file_keys = ("SLACK_API_URL", "X_API_URL", *SANDBOX_ENV)
            say(f"playground: open {playground.url}/ in a browser to tweet as a customer and act in Slack")
        else:
            say("credentials found: running against the real Slack and X")
        write_run_file(env, run_file_keys)
        manager = Manager(Printer(sys.stdout))
        for name, cmd in procfile_for(env, quiet=sandbox and env.get("LOG_LEVEL", "").upper() != "INFO"):
            manager.add_process(name, cmd, env=env, cwd=str(ROOT))
        if standins is not None:
            from sandbox.demo import narrate, watch  # dev-only, as above

            def story() -> None:
                ok = narrate(standins, env) if demo else True
                if exit_after_demo:
                    manager.returncode = 0 if ok else 1
                    manager.terminate()
                    return
                watch(standins, env)

            threading.Thread(target=story, name="demo", daemon=True).start()
        manager.loop()
        # Ctrl-C (honcho's 130) or SIGTERM (143) is how a run ends: a clean stop, not a failure for make
        return 0 if manager.returncode in (130, 143) else manager.returncode or 0
    finally:
        # the processes have stopped (honcho waits for them); then the stand-ins; Redis last
        if playground is not None:
            playground.stop()
        if standins is not None:
            standins.stop()
        if redis_proc is not None:
            redis_proc.stop()
        if running_env().get("REDIS_URL") == env.get("REDIS_URL"):
            RUN_FILE.unlink(missing_ok=True)
        say("stopped; Redis last" if redis_proc is not None else "stopped")
