"""A database file that cannot be written: the loader and the upload say so in one line and
change nothing, and the app still shows what the file holds.

Root ignores file permissions, so the real failures are made with a small tmpfs: remounted
read-only, or filled to the last byte. Mounting needs root with mount rights (as in CI); a
test skips, saying why, where that is missing. Permissions are tried only as a user they bind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from ingest import demo
from tests.conftest import REPORTS
from tests.helpers import build_demo_db, holding
from ui import session

ROOT = Path(__file__).resolve().parents[2]
PAGES = ROOT / "pages"
REPORT = REPORTS / "rowan-court-three-key-questions.txt"
TABLES = (
    "providers", "locations", "assessments", "key_question_results", "statement_scores",
    "ingest_log", "meta",
)  # fmt: skip


def snapshot(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table, opened read-only: proof the file opens and what it holds."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: sorted(map(repr, con.execute(f"SELECT * FROM {t}").fetchall())) for t in TABLES}
    finally:
        con.close()


def assessments(path: Path) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM assessments").fetchall()[0][0]
    finally:
        con.close()


def load(db: Path, *paths: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "ingest", "load", "--quiet", "--db", str(db)]
    return subprocess.run(
        [*command, *map(str, paths)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def mount_tmpfs(folder: Path, size: str) -> None:
    folder.mkdir()
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
            capture_output=True, text=True,
        )  # fmt: skip
    except FileNotFoundError:
        pytest.skip("no `mount` command here to make a small file system")
    if done.returncode:
        pytest.skip(f"cannot mount a small file system here ({done.stderr.strip()}): needs root")


def unmount(folder: Path) -> None:
    if subprocess.run(["umount", str(folder)], capture_output=True).returncode:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def fill(folder: Path, leave: int = 0) -> Path:
    """Fill the file system at `folder` until only `leave` bytes are free; the filler file."""
    filler = folder / "filler"
    stats = os.statvfs(folder)
    free = stats.f_bavail * stats.f_frsize
    with open(filler, "wb", buffering=0) as f:
        f.write(bytes(max(free - leave, 0)))
        if not leave:  # whatever is left, until the system refuses
            with contextlib.suppress(OSError):
                while True:
                    f.write(bytes(4096))
    return filler


def permissions_ignored(folder: Path) -> bool:
    probe = folder / "probe"
    probe.touch(mode=0o444)
    try:
        probe.open("a").close()
    except PermissionError:
        return False
    finally:
        probe.unlink()
    return True


@pytest.fixture(scope="module")
def source_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo database (10 locations), checkpointed so it is one file."""
    path = build_demo_db(tmp_path_factory.mktemp("source"), locations=10, seed=3)
    con = duckdb.connect(str(path))
    con.execute("CHECKPOINT")
    con.close()
    return path


@dataclass
class Unwritable:
    path: Path
    reason: str  # what the system says, and the message must pass on


@pytest.fixture(params=["read-only file system", "full disk", "no permission"])
def unwritable(request, source_db: Path, tmp_path: Path, monkeypatch) -> Unwritable:
    """A copy of the demo database that cannot be written, set as $QSD_DB."""
    folder = tmp_path / "disk"
    if request.param == "no permission":
        if permissions_ignored(tmp_path):
            pytest.skip("this user (root) ignores file permissions: the read-only file system case"
                        " covers it")  # fmt: skip
        folder.mkdir()
        shutil.copy(source_db, folder / "qsd.duckdb")
        (folder / "qsd.duckdb").chmod(0o444)
        folder.chmod(0o555)
        request.addfinalizer(lambda: folder.chmod(0o755))
        reason = "Permission denied"
    else:
        mount_tmpfs(folder, "16m")
        request.addfinalizer(lambda: unmount(folder))
        shutil.copy(source_db, folder / "qsd.duckdb")
        if request.param == "full disk":
            fill(folder)
            reason = "No space left on device"
        else:
            subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
            reason = "Read-only file system"
    monkeypatch.setenv("QSD_DB", str(folder / "qsd.duckdb"))
    return Unwritable(folder / "qsd.duckdb", reason)


def test_cli_says_in_one_line_that_it_cannot_write_and_changes_nothing(unwritable: Unwritable):
    before = snapshot(unwritable.path)
    done = load(unwritable.path, REPORTS)
    assert done.returncode == 3
    assert done.stdout == ""
    [line] = done.stderr.splitlines()  # one line, no traceback
    assert line.startswith(f"error: cannot write to {unwritable.path}: {unwritable.reason}.")
    assert "Nothing was loaded; run the same command again" in line
    assert snapshot(unwritable.path) == before


def test_cli_cannot_create_a_database_where_a_file_has_the_folders_name(tmp_path: Path):
    (tmp_path / "reports.duckdb").write_text("not a folder")
    target = tmp_path / "reports.duckdb" / "qsd.duckdb"
    done = load(target, REPORTS)
    assert done.returncode == 3
    [line] = done.stderr.splitlines()
    assert line.startswith(f"error: cannot write to {target}: Not a directory:")
    assert (tmp_path / "reports.duckdb").read_text() == "not a folder"


def test_disk_filling_up_during_a_load_keeps_whole_files_and_a_rerun_completes(
    source_db: Path, tmp_path: Path
):
    folder = tmp_path / "disk"
    mount_tmpfs(folder, "16m")
    try:
        db = folder / "qsd.duckdb"
        shutil.copy(source_db, db)
        reports = demo.write_demo_corpus(tmp_path / "more", locations=150, seed=5)
        before = snapshot(db)
        filler = fill(folder, leave=256 * 1024)  # room to start writing, not to finish

        done = load(db, reports[0].parent)
        assert done.returncode == 3, done.stderr
        [line] = done.stderr.splitlines()
        assert line.startswith(f"error: cannot write to {db}: No space left on device.")
        assert snapshot(db) == before  # the one batch failed as a whole: nothing of it stored

        filler.unlink()
        rerun = load(db, reports[0].parent)
        assert rerun.returncode == 0, rerun.stderr
        assert rerun.stdout.startswith(f"{len(reports)} files: {len(reports)} loaded,")
        assert assessments(db) == len(before["assessments"]) + len(reports)
    finally:
        unmount(folder)


def test_app_shows_what_an_unwritable_database_holds(unwritable: Unwritable):
    at = AppTest.from_file(str(PAGES / "overview.py"), default_timeout=30).run()
    assert not at.exception
    assert not at.error
    shown = next(m.value for m in at.metric if m.label == "Assessments")
    assert shown == f"{assessments(unwritable.path):,}"


def test_upload_to_an_unwritable_database_says_why_and_keeps_the_files(unwritable: Unwritable):
    before = snapshot(unwritable.path)
    at = AppTest.from_file(str(PAGES / "data.py"), default_timeout=30).run()
    loaded = next(m.value for m in at.metric if m.label == "Assessments loaded")
    at.file_uploader[0].set_value(("rowan.txt", REPORT.read_bytes(), "text/plain")).run()
    at.button(key=session.DATA_LOAD).click().run()
    assert not at.exception
    [error] = at.error
    assert f"The database file cannot be written: {unwritable.reason}" in error.value
    assert "Nothing was loaded" in error.value
    assert [f.name for f in at.file_uploader[0].value] == ["rowan.txt"]  # still there to retry
    assert next(m.value for m in at.metric if m.label == "Assessments loaded") == loaded
    assert not at.success
    assert snapshot(unwritable.path) == before


def test_app_without_a_database_it_can_create_says_so(tmp_path: Path, monkeypatch):
    (tmp_path / "reports.duckdb").write_text("not a folder")
    monkeypatch.setenv("QSD_DB", str(tmp_path / "reports.duckdb" / "qsd.duckdb"))
    at = AppTest.from_file(str(PAGES / "overview.py"), default_timeout=30).run()
    assert not at.exception
    [error] = at.error
    assert "cannot be created there: Not a directory" in error.value
    assert "QSD_DB" in error.value


def test_cli_gives_up_on_a_database_another_process_holds(source_db, tmp_path, monkeypatch, capsys):
    from ingest import __main__ as cli
    from ingest import database

    db = tmp_path / "held.duckdb"
    shutil.copy(source_db, db)
    before = snapshot(db)
    monkeypatch.setattr(database, "WRITE_WAIT_SECONDS", 1)
    with holding(db):
        status = cli.main(["load", "--quiet", "--db", str(db), str(REPORTS)])
    assert status == 3
    [line] = capsys.readouterr().err.splitlines()
    assert line == (
        f"error: {db} is being written by another process; nothing was loaded, try again when"
        " it has finished"
    )
    assert snapshot(db) == before
