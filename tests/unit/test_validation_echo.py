"""A 422 never grows with its input: the input, the place (loc, where an unknown key is echoed) and
the message are cut, and the number of errors listed is capped, whatever the body's shape."""

import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict

from leadhub.api.guards import INPUT_CHARS, MAX_ERRORS, validation_errors


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str
    items: list[int] = []


def app() -> FastAPI:
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse

    api = FastAPI()

    @api.exception_handler(RequestValidationError)
    async def _invalid(request, exc):
        return JSONResponse({"detail": validation_errors(exc.errors())}, status_code=422)

    @api.post("/r")
    def post(body: Strict) -> dict:
        return {}

    return api


BODIES = {
    "one long unknown key": {"K" * 900_000: 1, "title": "t"},
    "many unknown keys": {f"k{i}": 1 for i in range(60_000)} | {"title": "t"},
    "many bad list items": {"title": "t", "items": ["x"] * 50_000},
    "long bad list items": {"title": "t", "items": ["x" * 10_000] * 50},
    "not an object": ["y" * 500_000],
}


@pytest.mark.parametrize("shape", BODIES)
def test_a_422_stays_small_whatever_the_body(shape):
    body = json.dumps(BODIES[shape])
    answer = TestClient(app()).post("/r", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 422
    assert len(answer.content) < (MAX_ERRORS + 1) * (3 * INPUT_CHARS + 200), len(answer.content)


def test_errors_past_the_cap_are_counted():
    errors = validation_errors([{"loc": ("body", i), "msg": "bad", "type": "t"} for i in range(MAX_ERRORS + 7)])
    assert len(errors) == MAX_ERRORS + 1 and errors[-1]["msg"] == "and 7 more errors not listed"
    assert errors[0]["loc"] == ["body", 0]  # integer places stay integers
