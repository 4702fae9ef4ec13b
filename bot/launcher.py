"""`make run`: the whole bot under honcho. With no credentials it runs on the local stand-ins and an
embedded Redis, feeds sample mentions from the story and narrates each step."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import redis

from bot.embedded_redis import RedisProcess, port_is_free, start_redis

ROOT = Path(__file__).resolve().parent.parent
CREDENTIALS = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "X_API_KEY", "X_API_SECRET", "X_ACCESS_TOKEN",
               "X_ACCESS_TOKEN_SECRET")
SANDBOX_ENV = {
    "SLACK_BOT_TOKEN": "xoxb-sandbox", "SLACK_SIGNING_SECRET": "sandbox-signing-secret",
    "X_BEARER_TOKEN": "sandbox-bearer", "X_API_KEY": "sandbox-key", "X_API_SECRET": "sandbox-secret",
    "X_ACCESS_TOKEN": "sandbox-access", "X_ACCESS_TOKEN_SECRET": "sandbox-access-secret",
}


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


def say(text: str) -> None:
    print(f"\033[1;36m▶ escalator\033[0m | {text}", flush=True)


def _redis_reachable(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def ensure_redis(env: dict[str, str]) -> RedisProcess | None:
    """Use REDIS_URL when it answers; otherwise start an embedded redis-server with AOF in ./data/redis."""
    url = env.get("REDIS_URL")
    if url and _redis_reachable(url):
        return None
    port = 6379 if port_is_free(6379) else None
    proc = start_redis(ROOT / "data" / "redis", port=port, aof=True)
    env["REDIS_URL"] = proc.url
    say(f"embedded Redis on {proc.url} (AOF persistence in data/redis)")
    return proc


def run(demo: bool = True, exit_after_demo: bool = False) -> int:
    from honcho.manager import Manager
    from honcho.printer import Printer

    env = {**read_dotenv(ROOT / ".env"), **os.environ}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # the venv's gunicorn, rq
    env.setdefault("PORT", "3000")
    env.setdefault("ROUTING_FILE", str(ROOT / "routing.yaml"))
    sandbox = not any(env.get(k) for k in CREDENTIALS)
    redis_proc = ensure_redis(env)
    standins = None
    if sandbox:
        from bot.sandbox.demo import start_standins

        standins = start_standins(env, events_url=f"http://127.0.0.1:{env['PORT']}/slack/events")
        if demo:
            env.setdefault("LOG_LEVEL", "WARNING")  # let the story be read; LOG_LEVEL=INFO shows every job
        say("no Slack or X credentials found: running on the local stand-ins "
            f"(Slack {standins.slack.url}, X {standins.x.url})")
    else:
        say("credentials found: running against the real Slack and X")
    manager = Manager(Printer(sys.stdout))
    for name, cmd in procfile(ROOT / "Procfile"):
        manager.add_process(name, cmd, env=env, cwd=str(ROOT))
    if sandbox and standins is not None and demo:
        from bot.sandbox.demo import narrate

        def story() -> None:
            ok = narrate(standins, env)
            if exit_after_demo:
                manager.returncode = 0 if ok else 1
                manager.terminate()

        threading.Thread(target=story, name="demo", daemon=True).start()
    try:
        manager.loop()
    finally:
        if standins is not None:
            standins.stop()
        if redis_proc is not None:
            redis_proc.stop()
    return manager.returncode or 0
