"""The NinjaAPI instance behind /api/v1/: auth, errors, and every app's router."""

from __future__ import annotations

from ninja import NinjaAPI

from trustdesk.api.auth import BearerToken
from trustdesk.api.errors import install_error_handlers
from trustdesk.customers.api import router as customers_router
from trustdesk.search.api import router as search_router
from trustdesk.tickets.api import router as tickets_router

api = NinjaAPI(
    title="Trustdesk API",
    version="1",
    description=(
        "Authenticate every request with `Authorization: Bearer <token>` "
        "(create one with `trustdesk create-token --agent EMAIL`). Errors always have the "
        'body `{"code": ..., "message": ..., "details": [...]}`. Lists are paginated with '
        "an opaque `next_cursor`."
    ),
    urls_namespace="api-v1",
    auth=BearerToken(),
    openapi_url="/openapi.json",
    docs_url="/docs",
)
install_error_handlers(api)
api.add_router("/tickets", tickets_router)
api.add_router("/customers", customers_router)
api.add_router("/search", search_router)
