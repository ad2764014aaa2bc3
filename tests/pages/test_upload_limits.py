"""The Data page's uploader takes only the formats the loader reads, up to the size cap."""

from __future__ import annotations

import pytest

from tests.helpers import page
from ui import upload


@pytest.mark.usefixtures("use_demo_db")
def test_the_uploader_takes_five_types_up_to_50_mb_each():
    at = page("data").run()
    assert not at.exception
    [uploader] = at.file_uploader
    assert list(uploader.proto.type) == [".txt", ".json", ".ods", ".csv", ".pdf"]
    assert uploader.proto.max_upload_size_mb == upload.MAX_FILE_MB == 50
    assert uploader.proto.multiple_files
