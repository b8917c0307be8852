"""Hostile values for every parameter: any unicode, overlong, null bytes, HTML and injections."""

from __future__ import annotations

from hypothesis import strategies as st

# Each payload carries FUZZ, so reflection is recognised without mistaking the page's own markup.
PAYLOADS = (
    "<script>FUZZ()</script>",
    '"><svg onload=FUZZ>',
    "'><img src=x onerror=FUZZ>",
    "javascript:FUZZ()",
    "{{FUZZ}}",
    "${FUZZ}",
    "%3Cscript%3EFUZZ",
    "'; DROP TABLE token_set; --FUZZ",
)
RAW_MARKERS = ("<script>FUZZ", "<svg onload=FUZZ", "<img src=x onerror=FUZZ")

hostile = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=20).map(lambda s: s + "\x00" + s),
    st.sampled_from(PAYLOADS),
    st.tuples(st.text(max_size=10), st.sampled_from(PAYLOADS)).map("".join),
    st.integers(min_value=2_000, max_value=20_000).map(lambda n: "A" * n),
    st.sampled_from(["", "0", "-1", "1e309", "NaN", "all", "9" * 40, "\u202e\u0000", "\ud7ff", "🙂" * 300]),
)


def assert_not_reflected(html: str) -> None:
    for marker in RAW_MARKERS:
        assert marker not in html, f"reflected unescaped: {marker!r}"
