"""A crawler over the app through the Flask test client: every link, every form with every choice.

It reads pages the way a person sees them (links, forms, their radio and select options, and the
hx-get fragments a page loads), sends what a person could send (the form's own CSRF token), and
records every problem instead of stopping at the first: a 5xx, Werkzeug's default page, a page
without the app's layout, or a whole document answering an htmx request.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from werkzeug.datastructures import MultiDict

LAYOUT = '<header class="topbar">'
WERKZEUG_MARKS = ("<title>400 Bad Request", "<title>403 Forbidden", "<title>404 Not Found", "<title>405 Method")
WERKZEUG_MARKS += ("<title>500 Internal Server Error", "<title>409 Conflict", "<title>429 Too Many", "Werkzeug")
# Plausible answers for free-text fields, by name; anything else gets a short word.
TEXT_VALUES = {"hours": "24", "email": "someone@example.test", "password": "wrong-password", "q": "token"}
LAST = ("/logout",)  # signing out ends the crawl for a persona, so it is pressed last
# The OAuth pop-up's last page only hands control back to the opener; it has no layout by design.
NO_LAYOUT_TITLES = ("<title>Returning to Planwise</title>",)


@dataclass
class Form:
    action: str
    method: str
    fixed: list[tuple[str, str]] = field(default_factory=list)  # hidden fields, text fields
    choices: dict[str, list[str]] = field(default_factory=dict)  # radio groups and selects
    buttons: list[tuple[str, str]] = field(default_factory=list)  # named submit buttons
    htmx: bool = False

    def variants(self) -> list[list[tuple[str, str]]]:
        """Each option of each choice (the others left at their first), plus no choice at all."""
        base = list(self.fixed)
        if not self.choices:
            variants = [base]
        else:
            variants = [base]  # a person can press submit without choosing
            firsts = {name: options[0] for name, options in self.choices.items() if options}
            for name, options in self.choices.items():
                for option in options:
                    chosen = {**firsts, name: option}
                    variants.append(base + sorted(chosen.items()))
        if self.buttons:
            variants = [v + [b] for v, b in itertools.product(variants, self.buttons)]
        return variants


class PageReader(HTMLParser):
    """Links, hx-get URLs and forms of one HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.fragments: list[str] = []
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs_list) -> None:
        attrs = {k: (v or "") for k, v in attrs_list}
        if attrs.get("hx-get"):
            self.fragments.append(attrs["hx-get"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag == "form":
            self._form = Form(
                attrs.get("action", ""), attrs.get("method", "get").upper(), htmx=bool(attrs.get("hx-post"))
            )
            self.forms.append(self._form)
        elif self._form is not None:
            self._field(tag, attrs)

    def _field(self, tag: str, attrs: dict[str, str]) -> None:
        form, name = self._form, attrs.get("name", "")
        kind = attrs.get("type", "text").lower()
        if tag == "input" and name:
            if kind == "radio":
                form.choices.setdefault(name, []).append(attrs.get("value", "on"))
            elif kind == "checkbox":
                form.choices.setdefault(name, []).append(attrs.get("value", "on"))
            elif kind == "submit":
                form.buttons.append((name, attrs.get("value", "")))
            elif kind == "hidden":
                form.fixed.append((name, attrs.get("value", "")))
            else:
                form.fixed.append((name, attrs.get("value") or TEXT_VALUES.get(name, "crawler")))
        elif tag == "button" and name and kind == "submit":
            form.buttons.append((name, attrs.get("value", "")))
        elif tag == "select" and name:
            self._select = name
            form.choices.setdefault(name, [])
        elif tag == "option" and self._select:
            form.choices[self._select].append(attrs.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            form.fixed.append((name, TEXT_VALUES.get(name, "Checked by the crawler.")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def _key(request: tuple) -> tuple:
    """The same request whatever CSRF token the page carried (each page signs a fresh one)."""
    method, url, data, htmx = request
    return method, url, tuple(item for item in data if item[0] != "csrf_token"), htmx


@dataclass
class Crawl:
    """One persona's crawl: what it visited and what went wrong."""

    client: object
    max_requests: int = 600
    visited: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    skipped_external: set[str] = field(default_factory=set)

    def run(self, start: str = "/data", *more: str) -> Crawl:
        """Crawl from `start`, then from `more` (addresses this persona finds no link to)."""
        seen: set[tuple] = set()
        queue: deque[tuple] = deque(("GET", url, (), False) for url in (start, *more))
        last: list[tuple] = []
        while (queue or last) and len(self.visited) < self.max_requests:
            request = queue.popleft() if queue else last.pop(0)
            method, url, data, htmx = request
            if any(urlsplit(url).path.endswith(p) for p in LAST) and queue:
                if _key(request) not in {_key(r) for r in last}:
                    last.append(request)
                continue
            if _key(request) in seen:
                continue
            seen.add(_key(request))
            for found in self._visit(method, url, data, htmx):
                if _key(found) not in seen:
                    queue.append(found)
        if queue or last:
            self.problems.append(f"request budget ({self.max_requests}) used up with {len(queue) + len(last)} left")
        return self

    def _visit(self, method: str, url: str, data: tuple, htmx: bool) -> list[tuple]:
        headers = {"HX-Request": "true"} if htmx else {}
        label = f"{method} {url}{' ' + '&'.join(f'{k}={v}' for k, v in data if k != 'csrf_token') if data else ''}"
        label += " (htmx)" if htmx else ""
        self.visited.append(label)
        response = self.client.open(url, method=method, data=MultiDict(list(data)) if data else None, headers=headers)
        body = response.get_data(as_text=True)
        self._check(label, response, body, htmx)
        if response.status_code in (301, 302, 303, 307, 308):
            return self._follow(url, response.headers.get("Location", ""))
        if response.headers.get("HX-Redirect"):
            return self._follow(url, response.headers["HX-Redirect"])
        if "text/html" not in response.headers.get("Content-Type", ""):
            return []
        return self._read(url, body)

    def _check(self, label: str, response, body: str, htmx: bool) -> None:
        status = response.status_code
        if status >= 500:
            self.problems.append(f"{label}: {status}")
        if any(mark in body for mark in WERKZEUG_MARKS):
            self.problems.append(f"{label}: Werkzeug's default page ({status})")
        if "text/html" not in response.headers.get("Content-Type", "") or status in (204, 301, 302, 303, 307, 308):
            return
        if htmx and "<html" in body and not response.headers.get("HX-Retarget"):
            self.problems.append(f"{label}: a whole document answered an htmx request")
        if not htmx and LAYOUT not in body and not any(title in body for title in NO_LAYOUT_TITLES):
            self.problems.append(f"{label}: page without the app's layout ({status})")

    def _follow(self, base: str, location: str) -> list[tuple]:
        target = self._internal(base, location)
        return [("GET", target, (), False)] if target else []

    def _internal(self, base: str, href: str) -> str | None:
        if not href or href.startswith(("#", "mailto:", "javascript:")):
            return None
        absolute = urljoin("http://localhost" + base, href)
        parts = urlsplit(absolute)
        if parts.netloc != "localhost" or parts.path.startswith("/static/"):
            self.skipped_external.add(f"{parts.scheme}://{parts.netloc}{parts.path}")
            return None
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def _read(self, url: str, body: str) -> list[tuple]:
        reader = PageReader()
        reader.feed(body)
        found = [("GET", target, (), False) for href in reader.links if (target := self._internal(url, href))]
        found += [("GET", t, (), True) for hx in reader.fragments if (t := self._internal(url, hx))]
        for form in reader.forms:
            target = self._internal(url, form.action or url)
            if target is None:
                continue
            for values in form.variants():
                if form.method == "GET":
                    query = "&".join(f"{k}={v}" for k, v in values)
                    found.append(
                        ("GET", f"{target}{'&' if '?' in target else '?'}{query}" if query else target, (), False)
                    )
                else:
                    found.append(("POST", target, tuple(values), False))
                    if form.htmx:
                        found.append(("POST", target, tuple(values), True))
        return found
