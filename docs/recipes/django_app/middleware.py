"""Each request that names a tenant runs inside its tenant's block.

The ``with`` wraps ``get_response``: the views, the middleware below this one, the exception
handling that turns an error into a 500, all run inside it, and it ends when the response is
returned, whatever happened. A request naming no tenant runs outside any block.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden

from .aws import TENANTS, pool


class TenantBlockMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # A header here; in your app, ask your authentication, never the client.
        tenant = request.headers.get("X-Tenant")
        if tenant is None:
            return self.get_response(request)  # no tenant: no block
        if tenant not in TENANTS:
            return HttpResponseForbidden("unknown tenant")
        with pool.session(profile=tenant):
            return self.get_response(request)
