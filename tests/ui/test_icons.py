"""Icons are Streamlit's Material icons: an emoji renders as an empty box on a machine
without an emoji font (many servers and locked-down desktops)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Pictographs, dingbats and symbols that fonts other than emoji fonts lack.
EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f]")


def test_the_app_draws_no_emoji():
    sources = [ROOT / "dashboard.py", *sorted((ROOT / "pages").glob("*.py"))]
    sources += sorted((ROOT / "ui").glob("*.py"))
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sources
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if EMOJI.search(line)
    ]
    assert found == []
