"""The Compare page's peer definition in words, and how many peers stand behind a figure.

What a peer is lives in queries.peers; this module only says it, the same way in every
caption and help text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from queries.peers import PEER_KEYS, SIZE, SIZE_BANDS

# Each peer key as the page names it (the segmented control's labels, so also the URL's),
# and in a caption's sentence.
KEY_NAMES = {key: key.replace("_", " ") for key in PEER_KEYS}
_PHRASES = {**KEY_NAMES, SIZE: "provider size band"}
SIZE_HELP = (
    "Size band: how many locations the provider runs in the loaded data that CQC still "
    f"registers ({', '.join(SIZE_BANDS)})."
)
NAMED = 3  # peer providers named in a caption; the rest are counted


def _listed(words: Sequence[str]) -> str:
    return " and ".join(words) if len(words) < 3 else f"{', '.join(words[:-1])} and {words[-1]}"


def definition(
    peers_by: Sequence[str], peer_providers: Sequence[str], labels: Mapping[str, str]
) -> str:
    """Who a chosen location's peers are, as a phrase: 'other providers' locations of ...'."""
    if peer_providers:
        names = [labels.get(p, p) for p in peer_providers]
        shown = names[:NAMED] + ([f"{len(names) - NAMED} more"] if len(names) > NAMED else [])
        noun = (
            "the chosen peer provider" if len(names) == 1 else f"{len(names)} chosen peer providers"
        )
        who = f"the locations of {noun} ({_listed(shown)})"
    else:
        who = "other providers' locations"
    if peers_by:
        return f"{who} with the same {_listed([_PHRASES[k] for k in peers_by])}"
    return who if peer_providers else f"{who} anywhere in England"


def peer_n(counts: pl.Series, per: str) -> str:
    """How many peers stand behind each figure of `counts`, in words ('n = 12-40 peers a
    location, median 37')."""
    counts = counts.drop_nulls()
    if counts.is_empty():
        return "no peers"
    low, high = int(counts.min()), int(counts.max())
    if low == high:
        return f"n = {low:,} peers {per}"
    return f"n = {low:,}-{high:,} peers {per}, median {counts.median():,.0f}"


def caption(
    peers_by: Sequence[str],
    peer_providers: Sequence[str],
    labels: Mapping[str, str],
    counts: pl.Series,
    per: str,
) -> str:
    """'Peers: <definition>; <n>.' for a caption."""
    return f"Peers: {definition(peers_by, peer_providers, labels)}; {peer_n(counts, per)}."
