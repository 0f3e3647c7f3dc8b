"""The API document, served from packaged assets under the pages' content security policy.

``/docs`` is Swagger UI, its script and stylesheet read from the ``fastapi-offline`` package's
copy of the Swagger UI distribution (``/docs/assets/``), started by a script of our own
(``/docs/init.js``): no CDN, no inline script or style, so :data:`serving.api.headers.CSP`
holds. ``/openapi.json`` is the document itself. ``[service] api_docs = false`` turns both off
(404). No ReDoc: its styles are injected inline, which the policy refuses.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs/assets"
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - API</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"""
INIT = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    persistAuthorization: false,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
});
"""


def assets_dir() -> Path:
    """The packaged Swagger UI distribution (``swagger-ui-bundle.js``, ``swagger-ui.css``)."""
    return Path(str(resources.files("fastapi_offline") / "static"))


def install(app: FastAPI) -> None:
    """Add ``/docs``, ``/docs/init.js`` and the assets to an app built with ``docs_url=None``."""
    page = PAGE.format(title=app.title, assets=ASSETS)

    @app.get("/docs", include_in_schema=False)
    async def api_docs() -> HTMLResponse:
        return HTMLResponse(page)

    @app.get("/docs/init.js", include_in_schema=False)
    async def api_docs_init() -> Response:
        return Response(INIT, media_type="text/javascript")

    app.mount(ASSETS, StaticFiles(directory=assets_dir()), name="api-docs-assets")
