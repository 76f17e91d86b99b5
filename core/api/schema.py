"""OpenAPI post-processing: document the one error format on every operation."""

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
        }
    },
}

ERRORS = {
    "400": (
        "Invalid input: what the schema forbids, or a rule it cannot state (an id of nothing you can see, "
        "a name already taken, a rule across fields or about the current state); `fields` names each "
        "field and what is wrong with it."
    ),
    "401": "No valid credentials.",
    "403": "Authenticated, but the case role does not allow this.",
    "404": "No such object, or not on a case you are a member of.",
    "405": "Method not allowed.",
    "406": "Not acceptable.",
    "409": "Idempotency-Key reused with a different request.",
    "412": "If-Match did not match: the object changed since it was read.",
    "413": "The request body is larger than DATA_UPLOAD_MAX_MEMORY_SIZE (files go as multipart uploads).",
    "415": "Unsupported media type.",
    "429": "Too many requests; see Retry-After.",
}


def document_errors(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    reference = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            responses = operation.setdefault("responses", {})
            for code, description in ERRORS.items():
                if code in ("409",) and method != "post":
                    continue
                if code == "412" and method not in ("put", "patch", "delete"):
                    continue
                if code == "413" and method not in ("post", "put", "patch"):
                    continue
                responses.setdefault(
                    code, {"description": description, "content": {"application/json": {"schema": reference}}}
                )
            if method == "get" and "{" in next((p for p, item in result["paths"].items() if item is path_item), ""):
                responses.setdefault("304", {"description": "Not modified (If-None-Match matched the ETag)."})
    return result
