from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, URLResolver, path, re_path
from django.utils.translation import gettext as _

from trustdesk.api.api import api
from trustdesk.api.errors import error_body


def unknown_endpoint(request: HttpRequest, rest: str) -> JsonResponse:
    """Any path under /api/v1/ that no operation serves: a JSON 404, never Django's HTML page."""
    return JsonResponse(
        error_body(
            "not_found", _("There is no API endpoint at %(path)s.") % {"path": request.path}
        ),
        status=404,
    )


urlpatterns: list[URLPattern | URLResolver] = [
    path("", api.urls),
    re_path(r"^(?P<rest>.*)$", unknown_endpoint),
]
