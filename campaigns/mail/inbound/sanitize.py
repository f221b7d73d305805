"""Sanitise inbound HTML for display with nh3 (ammonia): inert, and blind to remote content.

* nh3's default tag and attribute allow-lists (no script, no forms, no event handlers,
  no ``javascript:`` URLs), plus ``style`` reduced to layout-free properties whose values
  carry no ``url(``, ``expression(`` or escapes.
* Remote images are not fetched: their ``src`` becomes ``data-blocked-src`` so a UI can
  offer "show images" for one message. Tracking pixels (1x1, 0x0, hidden) are removed.
* ``cid:`` images are rewritten by a caller-supplied resolver (e.g. to an attachment URL);
  without one they are dropped. ``data:`` images of common raster types stay inline.

The blocked-src rewrite runs on nh3's output, whose serialiser always double-quotes
attribute values and escapes ``"`` inside them, so a tag-local regex over it is exact.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from copy import deepcopy

import nh3

MAX_HTML = 2 * 1024 * 1024
SAFE_STYLE_PROPERTIES = frozenset({
    "color", "background-color", "font-family", "font-size", "font-style", "font-weight",
    "text-align", "text-decoration", "text-indent", "text-transform", "line-height",
    "letter-spacing", "white-space", "vertical-align", "margin", "margin-top",
    "margin-bottom", "margin-left", "margin-right", "padding", "padding-top",
    "padding-bottom", "padding-left", "padding-right", "border", "border-top",
    "border-bottom", "border-left", "border-right", "border-color", "border-style",
    "border-width", "border-collapse", "border-spacing", "width", "max-width",
    "min-width", "height", "list-style-type", "direction",
})
_BAD_STYLE_VALUE = re.compile(r"url\s*\(|expression|javascript:|\\|@import|[<>]", re.I)
_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|(?:width|height)\s*:\s*[01]px",
                     re.I)
_DATA_IMAGE = re.compile(r"^data:image/(?:png|gif|jpe?g|webp);base64,[a-z0-9+/=\s]+$", re.I)
_IMG = re.compile(r"<img\b((?:\s+[^\s=>]+(?:=\"[^\"]*\")?)*)\s*/?>")
_ATTR = re.compile(r"\s+([^\s=>]+)(?:=\"([^\"]*)\")?")

_ATTRIBUTES = deepcopy(nh3.ALLOWED_ATTRIBUTES)
for _tag in nh3.ALLOWED_TAGS:
    _ATTRIBUTES.setdefault(_tag, set()).update({"style", "dir", "lang", "title"})
_ATTRIBUTES["img"].update({"data-cid"})
_ATTRIBUTES["td"].update({"bgcolor", "valign", "width", "height"})
_ATTRIBUTES["table"].update({"bgcolor", "width", "cellpadding", "cellspacing", "border"})
_ATTRIBUTES["font"] = {"color", "face", "size"}
_TAGS = set(nh3.ALLOWED_TAGS) | {"font"}
_URL_SCHEMES = {"http", "https", "mailto", "tel", "cid", "data"}

CidResolver = Callable[[str], str | None]


def sanitize_html(html: str, cid_resolver: CidResolver | None = None) -> str:
    """Return display-safe HTML: scripts, handlers and forms gone, remote images blocked."""
    cleaned = nh3.clean(
        html[:MAX_HTML], tags=_TAGS, attributes=_ATTRIBUTES, url_schemes=_URL_SCHEMES,
        attribute_filter=_filter, clean_content_tags={"script", "style", "title"},
        link_rel="noopener noreferrer nofollow",
    )
    return _IMG.sub(lambda m: _rewrite_img(m.group(1), cid_resolver), cleaned)


def _filter(tag: str, attribute: str, value: str) -> str | None:
    """Per-attribute policy nh3 calls for every attribute it would keep."""
    if attribute == "style":
        if tag == "img" and _HIDDEN.search(value):
            return "display: none"  # kept only so _rewrite_img can drop the beacon
        return _clean_style(value) or None
    if attribute in ("href", "src") and value.lower().startswith("data:"):
        return value if tag == "img" and _DATA_IMAGE.match(value) else None
    if tag == "a" and attribute == "href" and value.lower().startswith("cid:"):
        return None
    return value


def _clean_style(value: str) -> str:
    """Keep only safe properties with harmless values from a style attribute."""
    kept = []
    for declaration in value.split(";"):
        name, _, val = declaration.partition(":")
        name, val = name.strip().lower(), val.strip()
        if name in SAFE_STYLE_PROPERTIES and val and not _BAD_STYLE_VALUE.search(val):
            kept.append(f"{name}: {val}")
    return "; ".join(kept)


def _rewrite_img(attr_text: str, cid_resolver: CidResolver | None) -> str:
    """Rebuild one sanitised <img>: resolve cid:, block remote src, drop tracking pixels."""
    attrs = {m.group(1).lower(): m.group(2) or "" for m in _ATTR.finditer(attr_text)}
    if _is_tracking_pixel(attrs):
        return ""
    src = attrs.pop("src", "")
    if src.lower().startswith("cid:"):
        resolved = cid_resolver(src[4:]) if cid_resolver else None
        if resolved is None:
            return ""
        attrs["src"] = _attr_escape(resolved)
    elif src.lower().startswith(("http:", "https:", "//")):
        attrs["data-blocked-src"] = src
    elif src:
        attrs["src"] = src  # an inline data: image
    return "<img" + "".join(f' {k}="{v}"' for k, v in attrs.items()) + ">"


def _is_tracking_pixel(attrs: dict[str, str]) -> bool:
    """Tell whether an image is a 0/1-pixel or hidden beacon."""
    tiny = {"0", "1", "0px", "1px"}
    if attrs.get("width", "").strip() in tiny or attrs.get("height", "").strip() in tiny:
        return True
    return attrs.get("style", "") == "display: none"


def _attr_escape(value: str) -> str:
    """Escape a value for a double-quoted HTML attribute."""
    return (value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
            .replace(">", "&gt;"))
