"""The official Slack and X specs, when present: found, loaded once, and used to check traffic.

A user's clone has no specs folder; then every check here answers "nothing to report" and the stand-ins
still run. Validation is on when the folder exists, unless a stand-in is told otherwise.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

ENV_VAR = "ESCALATOR_SPECS"
X_SPEC = "x-api-v2-openapi.json"
SLACK_WEB_SPEC = "slack-web-api-openapi-v2.json"
SLACK_EVENTS_SPEC = "slack-events-api-asyncapi-v1.json"

# The Slack spec dates from 2021; these arguments are newer and documented at docs.slack.dev.
NEWER_SLACK_ARGS: dict[str, set[str]] = {
    "chat.postMessage": {"metadata", "markdown_text"},
    "chat.update": {"metadata", "file_ids", "reply_broadcast", "markdown_text"},
    "chat.postEphemeral": {"markdown_text"},
    "conversations.history": {"include_all_metadata"},
    "conversations.replies": {"include_all_metadata"},
}
_TRUE_FALSE = {"0", "1", "true", "false"}


def specs_dir() -> Path | None:
    """The specs folder named by $ESCALATOR_SPECS; None when it is unset or holds no specs."""
    configured = os.environ.get(ENV_VAR)
    if not configured:
        return None
    folder = Path(configured)
    return folder if (folder / X_SPEC).is_file() else None


def validation_enabled(requested: bool | None) -> bool:
    """None means: validate when the specs are here."""
    available = specs_dir() is not None
    if requested and not available:
        log.warning("spec validation requested but no specs folder found; set %s", ENV_VAR)
    return available if requested is None else bool(requested and available)


@functools.cache
def load(name: str) -> dict[str, Any]:
    folder = specs_dir()
    if folder is None:
        raise FileNotFoundError(f"no specs folder (set {ENV_VAR})")
    with open(folder / name, encoding="utf-8") as fh:
        return json.load(fh)


@functools.cache
def _validator(spec_name: str, pointer: str) -> Any:
    try:
        from jsonschema import Draft4Validator
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT4
    except ImportError:  # jsonschema is a test extra; without it schemas are not checked
        log.warning("jsonschema is not installed; schema checks are skipped")
        return None
    uri = f"urn:spec:{spec_name}"
    resource = Resource.from_contents(load(spec_name), default_specification=DRAFT4)
    registry = Registry().with_resource(uri, resource)
    return Draft4Validator({"$ref": f"{uri}#{pointer}"}, registry=registry)


def schema_errors(spec_name: str, pointer: str, instance: Any) -> list[str]:
    """Messages for every way instance breaks the schema at pointer (e.g. /components/schemas/Tweet)."""
    validator = _validator(spec_name, pointer)
    if validator is None:
        return []
    return [f"{'/'.join(map(str, e.absolute_path)) or '$'}: {e.message}"
            for e in validator.iter_errors(instance)]


def x_schema_errors(schema: str, instance: Any) -> list[str]:
    return schema_errors(X_SPEC, f"/components/schemas/{schema}", instance)


def slack_event_errors(payload: Any) -> list[str]:
    """Checks an Events API envelope against the spec's GenericEventWrapper."""
    return schema_errors(SLACK_EVENTS_SPEC, "/components/schemas/GenericEventWrapper", payload)


def _slack_parameters(method: str) -> list[dict[str, Any]] | None:
    path = load(SLACK_WEB_SPEC)["paths"].get("/" + method)
    if not path:
        return None
    return next(iter(path.values()))["parameters"]


def _type_ok(kind: str | None, value: Any) -> bool:
    text = str(value).lower() if not isinstance(value, bool) else ""
    if kind == "boolean":
        return isinstance(value, bool) or text in _TRUE_FALSE
    if kind == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return True
        return re.fullmatch(r"-?\d+", text) is not None
    if kind == "number":
        try:
            float(value)
            return not isinstance(value, bool)
        except (TypeError, ValueError):
            return False
    return True  # strings: JSON bodies carry blocks and metadata as objects, the form as JSON text


def check_slack_args(method: str, args: dict[str, Any]) -> list[str]:
    """Slack Web API arguments against the spec: required present, no unknown ones, simple types right."""
    params = _slack_parameters(method)
    if params is None:
        return []  # not in the 2021 spec (files.getUploadURLExternal, files.completeUploadExternal, ...)
    known = {p["name"]: p for p in params} | {n: {"name": n} for n in NEWER_SLACK_ARGS.get(method, ())}
    problems = [f"{method}: missing required argument '{name}'" for name, p in known.items()
                if p.get("required") and name != "token" and name not in args]
    for name, value in args.items():
        if name == "token":
            continue
        if name not in known:
            problems.append(f"{method}: unknown argument '{name}'")
        elif not _type_ok(known[name].get("type"), value):
            problems.append(f"{method}: argument '{name}'={value!r} is not a {known[name].get('type')}")
    return problems


def _x_parameters(method: str, template: str) -> list[dict[str, Any]] | None:
    spec = load(X_SPEC)
    operation = spec["paths"].get(template, {}).get(method.lower())
    if operation is None:
        return None
    resolved = []
    for param in operation.get("parameters", []):
        if "$ref" in param:
            param = spec["components"]["parameters"][param["$ref"].rsplit("/", 1)[1]]
        resolved.append(param)
    return resolved


def _x_schema(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = load(X_SPEC)["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _x_value_error(name: str, value: str, schema: dict[str, Any]) -> str | None:
    schema = _x_schema(schema)
    prefix = f"The `{name}` query parameter value [{value}]"
    if schema.get("type") == "array":
        allowed = _x_schema(schema.get("items", {})).get("enum")
        for item in value.split(","):
            if allowed and item not in allowed:
                return f"The `{name}` query parameter value [{item}] is not one of [{','.join(allowed)}]"
        return None
    if schema.get("type") == "integer":
        if not re.fullmatch(r"-?\d+", value):
            return f"{prefix} is not a valid integer"
        low, high = schema.get("minimum"), schema.get("maximum")
        if (low is not None and int(value) < low) or (high is not None and int(value) > high):
            return f"{prefix} is not between {low} and {high}"
    if schema.get("pattern") and not re.search(schema["pattern"], value):
        return f"{prefix} does not match {schema['pattern']}"
    if schema.get("format") == "date-time":
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return f"{prefix} is not a valid RFC 3339 date-time"
    if "minLength" in schema and len(value) < schema["minLength"]:
        return f"{prefix} is too short"
    return None


def check_x_query(method: str, template: str, query: dict[str, str]) -> list[dict[str, Any]] | None:
    """X-style error objects for a request's query parameters; None when the spec lacks the operation."""
    params = _x_parameters(method, template)
    if params is None:
        return None
    by_name = {p["name"]: p for p in params if p.get("in") == "query"}
    errors: list[dict[str, Any]] = []
    for name, value in query.items():
        if name not in by_name:
            message = f"The query parameter [{name}] is not one of [{','.join(sorted(by_name))}]"
        else:
            message = _x_value_error(name, value, by_name[name].get("schema", {}))  # type: ignore[assignment]
        if message:
            errors.append({"parameters": {name: [value]}, "message": message})
    for name, param in by_name.items():
        if param.get("required") and name not in query:
            message = f"The `{name}` query parameter can not be empty"
            errors.append({"parameters": {name: []}, "message": message})
    return errors
