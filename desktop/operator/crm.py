"""The CRM pane's address: the group's URL template with the call's values filled in.

Pure (no Qt), so it is tested on its own. Placeholders are ``{name}``; each value is
percent-encoded as a whole (``+7 495`` → ``%2B7%20495``), so a caller number or a name can never
add query parameters or change the path. A placeholder we do not know stays as written, which
shows the administrator the typo; a known one without a value becomes empty.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote

PLACEHOLDERS: tuple[str, ...] = (
    "caller",
    "called",
    "call_id",
    "operator",
    "group",
    "campaign",
    "client_id",
)

_FIELD = re.compile(r"\{([A-Za-z_]+)\}")


def render_crm_url(template: str, values: Mapping[str, object]) -> str:
    """``template`` with every known placeholder replaced by its URL-encoded value.

    One pass over the template: a value that itself contains ``{called}`` is not expanded again.
    """

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in PLACEHOLDERS:
            return match.group(0)
        value = values.get(name)
        return quote("" if value is None else str(value), safe="")

    return _FIELD.sub(fill, template.strip())


def is_web_address(url: str) -> bool:
    """Only http(s) pages are opened, in the pane or in the browser."""
    return url.lower().startswith(("http://", "https://"))
