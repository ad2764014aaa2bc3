"""How the Data page states where the data came from: the last sync with the CQC API."""

from __future__ import annotations

import datetime as dt


def last_sync(settings: dict[str, str]) -> str:
    """The time the last API sync is complete to, else 'never synced'.

    From meta `last_sync` (UTC); says so when a sync is unfinished (meta `sync_state`).
    """
    when = settings.get("last_sync")
    try:
        text = f"{dt.datetime.fromisoformat(when):%-d %b %Y, %H:%M} UTC" if when else "never synced"
    except ValueError:  # not ISO: show it as stored
        text = when
    if settings.get("sync_state"):
        text += "; a sync is unfinished (`python -m ingest api` resumes it)"
    return text
