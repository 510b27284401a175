"""HTML to PDF with WeasyPrint, with nothing fetched from outside the application.

A report must render the same in a village hall without a connection as on the server: its
stylesheet is one of the application's static files, read from disk, and fonts come from the
system (fontconfig). Any other URL (http, file, data outside the static files) is refused, so a
text typed by a citizen can never make the server fetch something."""

from __future__ import annotations

import logging
import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders

# WeasyPrint tells every step of every render at INFO: noise in a server's log.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

# The page's base URL: relative and root-relative URLs resolve under it, and only those whose
# path is below STATIC_URL are served (from disk).
REPORT_BASE_URL = "https://spiral.invalid/"


class StaticFilesOnly(Exception):
    """A report asked for a resource that is not one of the application's static files."""


def static_file_path(url: str) -> Path | None:
    """The file on disk behind a static URL of the report, or None if it is not one."""
    parts = urlsplit(url)
    base = urlsplit(REPORT_BASE_URL)
    if (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
        return None
    path = unquote(parts.path)
    if not path.startswith(settings.STATIC_URL) or ".." in path.split("/"):
        return None
    relative = path.removeprefix(settings.STATIC_URL)
    found = finders.find(relative)
    if found:
        return Path(found if isinstance(found, str) else found[0])
    candidate = Path(settings.STATIC_ROOT) / relative
    return candidate if candidate.is_file() else None


def _fetcher() -> Any:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticFilesFetcher(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            path = static_file_path(url)
            if path is None:
                raise StaticFilesOnly(f"not a static file of the application: {url[:200]}")
            mime_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(
                url, body=path.read_bytes(), headers={"Content-Type": mime_type}
            )

    return StaticFilesFetcher()


def html_to_pdf(html: str) -> bytes:
    """The PDF of a complete HTML page (WeasyPrint is imported here: it loads Pango)."""
    from weasyprint import HTML

    document = HTML(
        string=html,
        base_url=REPORT_BASE_URL,
        url_fetcher=_fetcher(),
        encoding="utf-8",
    )
    pdf = document.write_pdf()
    assert pdf is not None  # write_pdf returns bytes when no target is given
    return bytes(pdf)
