"""The public API fuzzed from its own OpenAPI document (schemathesis, in-process over WSGI).

Every operation gets valid and invalid requests twice: as a real visitor (bearer token from POST
/sessions, transcripts consented, valid cases aimed at their own conversation and stored answer) and
without a valid token (none, empty or generated). Every answer must be no 5xx, a documented status
with the documented content type, headers and body schema, and a request that breaks the document
must be refused (4xx), never accepted. Rate limits stay on but high, so a 429 cannot hide a bug.
Examples are derandomized so CI is reproducible. Run with -s for the statuses seen per operation.
"""
from __future__ import annotations

import os
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, negative_data_rejection,
                                               response_headers_conformance, response_schema_conformance,
                                               status_code_conformance, unsupported_method)

from app import create_app
from app.api import OPENAPI
from tests.conftest import TEST_SUBJECT_KEY, Visitor

EXAMPLES_PER_OPERATION = 120  # 14 operations x 2 callers: about 2,800 requests
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance, negative_data_rejection, unsupported_method]
# A request that breaks the document must get one of these (413: a message over the length limit).
REJECTIONS = ["400", "401", "404", "405", "409", "413", "415", "429"]
FUZZ = settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
                suppress_health_check=list(HealthCheck))
HIGH_LIMITS = {"RATE_MESSAGES_PER_VISITOR": 1_000_000, "RATE_REQUESTS_PER_ADDRESS": 1_000_000,
               "RATE_POLLS_PER_VISITOR": 1_000_000}
answered: Counter[tuple[str, str, int]] = Counter()  # (caller, operation, status) → requests


# The document the app serves at /api/v1/openapi.json, read from the same file.
schema = schemathesis.openapi.from_path(OPENAPI, config=schemathesis.Config.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": REJECTIONS}}}))


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory, scrubber, embedder, kb_index):
    """One real app (real models, SQLCipher file, migrations) for every operation of this module."""
    with pytest.MonkeyPatch.context() as patch:
        for name in [k for k in os.environ if k.startswith("QUIETDESK_")]:
            patch.delenv(name)
        yield create_app({"INSTANCE": str(tmp_path_factory.mktemp("fuzz") / "instance"), "TESTING": True,
                          "SCRUBBER": scrubber, "EMBEDDER": embedder, "INDEX": kb_index,
                          "SUBJECT_KEY": TEST_SUBJECT_KEY, **HIGH_LIMITS})


class RealVisitor:
    """A consenting visitor with one stored answer: real ids for the path, a real bearer token."""

    def __init__(self, client) -> None:
        self.client = client
        self.visitor = self.fresh()
        reply = self.visitor.say("Is shipping free?")
        assert reply.status_code == 200, reply.json
        self.message_id = reply.json["message_id"]

    def fresh(self) -> Visitor:
        visitor = Visitor(self.client)
        visitor.consent(transcripts=True)
        return visitor

    def aim(self, case) -> dict[str, str]:
        """Point a valid case's ids at this visitor's own resources; return the auth header to send.

        Invalid cases keep their generated ids (unknown ones must be a clean 404). Erasure gets a
        fresh visitor each time, so the shared one lives on for the other operations.
        """
        visitor = self.fresh() if case.method.upper() == "DELETE" else self.visitor
        if case.meta is not None and case.meta.generation.mode is GenerationMode.POSITIVE:
            if "conversation_id" in case.path_parameters:
                case.path_parameters["conversation_id"] = visitor.conversation_id
            if "message_id" in case.path_parameters:
                case.path_parameters["message_id"] = self.message_id
        return visitor.auth


@pytest.fixture(scope="module")
def real_visitor(fuzz_app) -> RealVisitor:
    return RealVisitor(fuzz_app.test_client())


@schema.parametrize()
@FUZZ
def test_api_as_a_visitor_conforms_to_its_document(case, fuzz_app, real_visitor):
    response = case.call_and_validate(app=fuzz_app, headers=real_visitor.aim(case), checks=CHECKS)
    answered["visitor", case.operation.label, response.status_code] += 1


@schema.parametrize()
@FUZZ
def test_api_without_a_token_conforms_to_its_document(case, fuzz_app):
    response = case.call_and_validate(app=fuzz_app, checks=CHECKS)
    answered["anonymous", case.operation.label, response.status_code] += 1


@pytest.fixture(scope="module", autouse=True)
def count_requests():
    yield
    print(f"\nfuzzed requests: {sum(answered.values())}")
    for (caller, operation, status), count in sorted(answered.items()):
        print(f"  {caller:9} {operation:55} {status} x{count}")


# Found by fuzzing the scrubber: JSON's "\ud800" escape decodes to a lone surrogate, a Python str that
# no codec can write; the turn answered 500. Bodies carrying one are now refused; a real pair is fine.
@pytest.mark.parametrize("escaped, status", [("\\ud800", 400), ("x\\udfff", 400), ("\\ud83d\\ude00 hi", 200)])
def test_a_lone_surrogate_is_refused_not_a_server_error(client, visitor, escaped, status):
    url = f"/api/v1/conversations/{visitor.conversation_id}/messages"
    response = client.post(url, data=f'{{"text": "{escaped}"}}', content_type="application/json",
                           headers=visitor.auth)
    assert response.status_code == status
    assert status == 200 or response.json["error"] == "invalid_request"


# Found by fuzzing (unsupported_method): a 405 named no allowed method; RFC 9110 says it must.
def test_a_405_names_the_allowed_methods(client):
    response = client.delete("/api/v1/health")
    assert response.status_code == 405 and "GET" in response.headers["Allow"]
