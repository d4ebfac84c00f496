"""Responses the hot read endpoints render themselves, skipping ninja's second validation.

Ninja validates whatever an operation returns against its response schema, wrapping every value
in a getter object; for a page of 25 tickets that costs more than the SQL. The list and detail
endpoints instead build plain dicts straight from ``.values()`` rows, in the shape their schema
declares (tests validate real responses against the schemas), and hand them to ``rendered``,
which serialises them exactly as ninja's ``JSONRenderer`` would.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse
from ninja.responses import NinjaJSONEncoder

CONTENT_TYPE = "application/json; charset=utf-8"


def rendered(data: dict[str, Any], *, status: int = 200) -> HttpResponse:
    """``data`` as the JSON body ninja would have produced for it, without re-validating it."""
    return HttpResponse(
        json.dumps(data, cls=NinjaJSONEncoder), status=status, content_type=CONTENT_TYPE
    )
