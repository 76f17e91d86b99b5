"""OpenAPI post-processing: the request schema states what the code refuses, and no more.

Adds DRF's extra refusals (text, URLs, files) and a schema of their own for form bodies.
See docs/modules.md#coreapirequest_schemapy.
"""

from __future__ import annotations

import copy
import json
import re

from rest_framework.settings import api_settings

NO_NUL = "^[^\\x00]*$"
# What Python's str.strip() removes (str.isspace()), which DRF's CharField trims before it refuses a blank:
# spelled out, because `\s` means other sets to other readers (ECMA's has U+FEFF and not U+001C-U+001F
# or U+0085; Schemathesis reads it as ASCII).
WHITESPACE = "\\t\\n\\x0b\\x0c\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
# At least one character that is neither whitespace nor NUL, and no NUL anywhere.
NOT_BLANK = f"^[^\\x00]*[^\\x00{WHITESPACE}][^\\x00]*$"
# URLs Django's URLValidator (DRF's URLField) accepts, and no others: http(s) or ftp(s), a host name
# of at most 253 characters ending in a letter-only top-level domain, an optional port, then any
# text without whitespace. (It accepts more, e.g. IP addresses; the schema promises these.)
URL = (
    "^(?:https?|ftps?)://(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.){1,3}[A-Za-z]{2,24}"
    f"(?::[0-9]{{1,5}})?(?:[/?#][^{WHITESPACE}\\x00]*)?$"
)
JSON = "application/json"
MULTIPART = "multipart/form-data"
EMPTY_TEXT = {"type": "string", "maxLength": 0}


def state_request_rules(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    replaced = set()
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and parameter["name"] == api_settings.SEARCH_PARAM:
                    _state_text(parameter.get("schema", {}))
            content = operation.get("requestBody", {}).get("content", {})
            for media_type, body in content.items():
                name = _component_name(body.get("schema", {}))
                if name is None:
                    continue
                # Only a multipart body carries files; JSON and urlencoded ones leave them out.
                files = media_type == MULTIPART and _has_files(schemas[name])
                variant = {JSON: f"{name}Json", MULTIPART: f"{name}Multipart" if files else f"{name}Form"}.get(
                    media_type, f"{name}Form"
                )
                if variant not in schemas:
                    form = _as_form(schemas[name], schemas) if media_type != JSON else copy.deepcopy(schemas[name])
                    if not files:
                        _drop_files(form)
                    schemas[variant] = form
                if variant == f"{name}Json" and schemas[variant] == schemas[name]:
                    del schemas[variant]  # no file to leave out: the component as it is
                    continue
                body["schema"] = {"$ref": f"#/components/schemas/{variant}"}
                replaced.add(name)
    for name in _request_components(result):
        _state_texts(schemas[name])
    text = json.dumps([result["paths"], schemas], default=str)
    for name in replaced:
        if f'"#/components/schemas/{name}"' not in text:
            del schemas[name]  # every body now refers to one of its variants
    return result


def _has_files(component: dict) -> bool:
    return any(schema.get("format") == "binary" for schema in component.get("properties", {}).values())


def _drop_files(component: dict) -> None:
    for name, schema in list(component.get("properties", {}).items()):
        if schema.get("format") == "binary":
            del component["properties"][name]
            if name in component.get("required", []):
                component["required"].remove(name)


def _request_components(result) -> set[str]:
    names = set()
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            for body in operation.get("requestBody", {}).get("content", {}).values():
                name = _component_name(body.get("schema", {}))
                if name is not None:
                    names.add(name)
    return names


def _component_name(schema: dict) -> str | None:
    reference = schema.get("$ref", "")
    prefix = "#/components/schemas/"
    return reference[len(prefix) :] if reference.startswith(prefix) else None


def _state_texts(component: dict) -> None:
    for schema in component.get("properties", {}).values():
        _state_text(schema)


def _state_text(schema: dict) -> None:
    """A text gets the characters DRF accepts; a list's items and each alternative too."""
    for alternative in (schema.get("items"), *schema.get("anyOf", []), *schema.get("oneOf", [])):
        if isinstance(alternative, dict):
            _state_text(alternative)
    if schema.get("type") != "string" or {"enum", "pattern"} & schema.keys() or schema.get("maxLength") == 0:
        return
    format_ = schema.get("format")
    if format_ == "binary":
        schema.setdefault("minLength", 1)  # an empty file is refused
    elif format_ == "uri":
        schema["pattern"] = URL
    elif format_ is None:
        schema["pattern"] = NOT_BLANK if schema.get("minLength", 0) >= 1 else NO_NUL


def _resolve(schema: dict, schemas: dict) -> dict:
    name = _component_name(schema)
    if name is not None:
        return _resolve(schemas[name], schemas)
    if len(schema.get("allOf", [])) == 1:
        return _resolve(schema["allOf"][0], schemas)
    return schema


def _as_form(component: dict, schemas: dict) -> dict:
    """The component as a form can carry it (see docs/modules.md#coreapirequest_schemapy)."""
    form = copy.deepcopy(component)
    form.pop("description", None)
    properties = form.get("properties", {})
    for name in list(properties):
        schema = properties[name]
        resolved = _resolve(schema, schemas)
        items = _resolve(resolved.get("items", {}), schemas) if resolved.get("type") == "array" else None
        if resolved.get("type") == "object" or (items is not None and items.get("type") == "object"):
            # A nested object or a list of objects has no form encoding DRF reads.
            del properties[name]
            if name in form.get("required", []):
                form["required"].remove(name)
            continue
        if items is not None:
            # The field repeated is a list; given once, a list of one.
            schema = properties[name] = {"anyOf": [schema, copy.deepcopy(resolved["items"])]}
        nullable = schema.pop("nullable", False)
        if (
            items is None
            and resolved.get("format") != "binary"  # a file part; left out when there is none
            and (nullable or name not in form.get("required", []))
            and not _takes_empty_text(resolved, schemas)
        ):
            # An empty value is null where null is allowed (a form cannot send null itself), and
            # otherwise, for a field that may be left out, the same as leaving it out.
            properties[name] = {"anyOf": [schema, EMPTY_TEXT]}
    return form


def _takes_empty_text(schema: dict, schemas: dict) -> bool:
    """Whether "" is already valid for the schema (plain text, or a choice of "")."""
    alternatives = [_resolve(item, schemas) for item in schema.get("oneOf", schema.get("anyOf", []))] or [schema]
    return any(
        "" in item.get("enum", [])
        or (
            item.get("type") == "string"
            and not {"enum", "format", "minLength"} & item.keys()
            and re.search(item.get("pattern", ""), "") is not None
        )
        for item in alternatives
    )
