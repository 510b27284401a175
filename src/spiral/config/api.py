"""The REST API, /api/v1/ (django-ninja). Domain routers live in spiral.api."""

from ninja import NinjaAPI

from spiral.api.grid import router as grid_router

api = NinjaAPI(
    title="Spiral API",
    version="1",
    description="Open API of the TOGETHER network's Spiral platform.",
    urls_namespace="api",
)
api.add_router("/grid", grid_router)
