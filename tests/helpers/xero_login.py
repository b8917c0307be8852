"""Drive the Xero sandbox's login, MFA and consent pages like a person would, with requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import pyotp
import requests


@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str, str, bool]] = field(default_factory=list)  # name, value, type, checked
    buttons: list[tuple[str, str, str]] = field(default_factory=list)  # name, value, text
    labels: dict[str, str] = field(default_factory=dict)  # input id -> label text
    ids: dict[str, str] = field(default_factory=dict)  # input id -> value


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._label_for: str | None = None
        self._label_text = ""
        self._button: tuple[str, str] | None = None
        self._button_text = ""
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        elif tag == "input" and self.forms:
            kind = a.get("type", "text").lower()
            if kind == "submit":
                self.forms[-1].buttons.append((a.get("name", ""), a.get("value", ""), a.get("value", "")))
            else:
                self.forms[-1].fields.append(
                    (
                        a.get("name", ""),
                        a.get("value", "on" if kind in ("checkbox", "radio") else ""),
                        kind,
                        "checked" in a,
                    )
                )
                if a.get("id"):
                    self.forms[-1].ids[a["id"]] = a.get("value", "")
        elif tag == "button" and self.forms:
            self._button = (a.get("name", ""), a.get("value", ""))
            self._button_text = ""
        elif tag == "label":
            self._label_for, self._label_text = a.get("for"), ""
        elif tag == "select" and self.forms:
            self.forms[-1].fields.append((a.get("name", ""), "", "select", False))

    def handle_data(self, data):
        self.text.append(data)
        if self._button is not None:
            self._button_text += data
        if self._label_for is not None:
            self._label_text += data

    def handle_endtag(self, tag):
        if tag == "button" and self._button is not None and self.forms:
            self.forms[-1].buttons.append((self._button[0], self._button[1], self._button_text.strip()))
            self._button = None
        elif tag == "label" and self._label_for is not None and self.forms:
            self.forms[-1].labels[self._label_for] = self._label_text.strip()
            self._label_for = None


def parse_forms(html: str) -> tuple[list[Form], str]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms, " ".join(" ".join(parser.text).split())


DEMO_TOTP_SECRETS: dict[str, str] = {}


class XeroBrowser:
    """A requests session that walks the sandbox's pages. `authorize()` returns the callback URL."""

    def __init__(self) -> None:
        self.http = requests.Session()
        self.last_text = ""

    def _submit(
        self, url: str, html: str, button_text: str, values: dict[str, str], ticks: list[str] | None = None
    ) -> requests.Response:
        forms, _ = parse_forms(html)
        for form in forms:
            for name, value, text in form.buttons:
                if text.lower() == button_text.lower():
                    data: list[tuple[str, str]] = []
                    for fname, fvalue, kind, checked in form.fields:
                        if not fname:
                            continue
                        if kind in ("checkbox", "radio"):
                            label_match = (
                                ticks == ["*"]
                                or ticks is not None
                                and any(form.labels.get(i) in ticks for i, v in form.ids.items() if v == fvalue)
                            )
                            if label_match or (ticks is None and checked):
                                data.append((fname, fvalue))
                            continue
                        data.append((fname, values.get(fname, fvalue)))
                    if name:
                        data.append((name, value))
                    target = urljoin(url, form.action or url)
                    if form.method == "post":
                        return self.http.post(target, data=data, allow_redirects=False)
                    return self.http.get(target, params=data, allow_redirects=False)
        raise AssertionError(f"no button {button_text!r} on page {url}")

    def _follow(self, response: requests.Response, stop_prefix: str) -> tuple[requests.Response, str | None]:
        """Follow sandbox redirects; stop (returning the URL) when it points at our app."""
        while response.is_redirect:
            location = urljoin(response.url, response.headers["Location"])
            if location.startswith(stop_prefix):
                return response, location
            response = self.http.get(location, allow_redirects=False)
        self.last_text = parse_forms(response.text)[1]
        return response, None

    def authorize(
        self,
        authorize_url: str,
        email: str,
        password: str = "xero",
        *,
        redirect_prefix: str,
        organisations: list[str] | None = None,
        totp_secret: str | None = None,
        consent: str = "Allow access",
        mfa_code: str | None = None,
    ) -> str | None:
        """Log in, pass MFA, answer consent. Returns the callback URL, or None if it stopped on a page."""
        response, done = self._follow(self.http.get(authorize_url, allow_redirects=False), redirect_prefix)
        if done:
            return done
        if response.status_code >= 400:
            return None
        response, done = self._follow(
            self._submit(response.url, response.text, "Log in", {"email": email, "password": password}), redirect_prefix
        )
        if done:
            return done
        if "code" in [f[0] for form in parse_forms(response.text)[0] for f in form.fields]:
            code = mfa_code or (pyotp.TOTP(totp_secret).now() if totp_secret else _code_on_page(self.last_text))
            if code is None:
                return None
            response, done = self._follow(
                self._submit(response.url, response.text, "Confirm", {"code": code}), redirect_prefix
            )
            if done:
                return done
        try:
            response, done = self._follow(
                self._submit(response.url, response.text, consent, {}, ticks=organisations), redirect_prefix
            )
        except AssertionError:
            return None
        return done


def _code_on_page(text: str) -> str | None:
    import re

    match = re.search(r"\b(\d{6})\b", text)
    return match.group(1) if match else None


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
