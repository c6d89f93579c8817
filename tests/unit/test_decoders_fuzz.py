"""Whatever bytes and headers arrive, decoding raises DecodeError or returns a valid model."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.dead_letters import DeadLetter
from schemas.serialization import MODELS, DecodeError, decode, encode

MODEL_CLASSES = [model for model, _ in MODELS.values()]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=20), children, max_size=8),
    max_leaves=30,
)
field_names = st.sampled_from(
    ["source", "channel", "external_id", "title", "body", "published_at", "case_id", "action", "actor",
     "stage", "error_type", "error", "payload", "lead_id", "fetched_at", "status", "at", "contact"]
)  # fmt: skip
plausible_objects = st.dictionaries(field_names, json_values, max_size=12)
headers = st.lists(st.tuples(st.sampled_from(["schema", "other"]), st.binary(max_size=30)), max_size=3)


def _decode_all(value, hdrs):
    for model in MODEL_CLASSES:
        try:
            result = decode(value, hdrs, model)
        except DecodeError:
            continue
        assert isinstance(result, model)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(value=st.binary(max_size=2000), hdrs=headers)
def test_arbitrary_bytes(value, hdrs):
    _decode_all(value, hdrs)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(obj=plausible_objects, hdrs=headers)
def test_plausible_json_objects(obj, hdrs):
    _decode_all(json.dumps(obj).encode(), hdrs)


@settings(max_examples=200)
@given(value=json_values)
def test_any_json_document(value):
    _decode_all(json.dumps(value).encode(), None)


@pytest.mark.parametrize("model", MODEL_CLASSES)
def test_a_message_for_another_model_is_refused(model):
    letter = DeadLetter(stage="s", error_type="E", error="e", payload=b"x")
    value, hdrs = encode(letter)
    if model is DeadLetter:
        assert decode(value, hdrs, model) == letter
    else:
        with pytest.raises(DecodeError, match="expected"):
            decode(value, hdrs, model)


def test_an_unknown_schema_version_is_refused():
    letter = DeadLetter(stage="s", error_type="E", error="e", payload=b"x")
    value, _ = encode(letter)
    with pytest.raises(DecodeError, match="DeadLetter/99"):
        decode(value, [("schema", b"DeadLetter/99")], DeadLetter)


@settings(max_examples=200)
@given(payload=st.binary(max_size=5000), key=st.none() | st.binary(max_size=50))
def test_dead_letters_carry_any_payload_losslessly(payload, key):
    letter = DeadLetter(stage="normalize", error_type="DecodeError", error="x", payload=payload, key=key)
    value, hdrs = encode(letter)
    back = decode(value, hdrs, DeadLetter)
    assert back.payload == payload and back.key == key
