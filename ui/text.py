"""Text from the data (names, statements) where Streamlit reads Markdown, shown as written."""

from __future__ import annotations

import re

# CommonMark lets a backslash escape any ASCII punctuation; escaping all of it leaves no
# emphasis, link, image, HTML tag, heading, list, directive or maths for a name to start.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def plain(text: object) -> str:
    """`text` on one line, every Markdown character escaped: nothing in it renders or runs."""
    return _PUNCTUATION.sub(r"\\\1", " ".join(str(text).split()))
