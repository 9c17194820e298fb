"""Markdown to safe HTML: markdown-it-py (CommonMark, raw HTML off, tables on) renders, nh3 (the
Rust sanitiser ammonia) keeps only the tags below. No script, no style, no images at all (so none
from a remote server), links only to http, https and mailto, and each opens nothing of ours."""

from __future__ import annotations

import hashlib
import re

import nh3
from markdown_it import MarkdownIt

_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"style"}, "td": {"style"}}
URL_SCHEMES = {"http", "https", "mailto"}
# A link is kept only when it names its scheme and, for the web, its host: "https://host..." or
# "mailto:...", the scheme in any case. That refuses what a browser would read against the page's own
# address, a protocol-relative "//host" (another server), "\\host" or "/\\host" (browsers read a
# backslash as a slash), "https:host" and "https:/host", and any relative link, which would point
# elsewhere in every interface that shows the statement. markdown-it has already refused
# javascript:, vbscript:, file: and data: links, and percent-encodes control characters and spaces.
_ABSOLUTE_LINK = re.compile(r"(?:https?://[^/\\]|mailto:)", re.IGNORECASE)


def _keep_link(element: str, attribute: str, value: str) -> str | None:
    if element == "a" and attribute == "href":
        return value if _ABSOLUTE_LINK.match(value) else None
    return value


def render(markdown: str) -> str:
    html = _MARKDOWN.render(markdown)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        url_relative="deny",
        attribute_filter=_keep_link,
        link_rel="noopener noreferrer nofollow",
        # Table alignment comes as style="text-align:..."; nothing else may pass in a style.
        filter_style_properties={"text-align"},
    )


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
