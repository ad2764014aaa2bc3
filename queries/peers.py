"""Chosen providers or locations beside their peers.

The unit is a location's current key question percentage (or statement score): that of its
latest scored assessment of the key question (current.py's scored picture). A chosen
location's peers are the current rows of every location run by another provider (so the
chosen provider is excluded) that shares its `peers_by` values (PEER_KEYS: service type,
region, local authority and/or size band; empty = all of England) and, when `peer_providers`
names some, is run by one of them (a custom peer list). Filters narrow the pool (a date range
gives the picture as at `date_to`); their providers and locations are ignored: the chosen
ones are arguments. A location with no value of a key (no local authority stated) has no
peers by it. Quartiles interpolate linearly. percentile_rank = 100 * (peers strictly below +
half the peers equal) / n, null without peers.

Size band (SIZE_BANDS, provider_sizes): how many locations the provider runs in the loaded
data that CQC still registers (deregistered ones are left out; a provider counts at least 1,
and a location without a provider is a provider of one). It is the loaded data's count, so a
load of one area counts a national chain's locations in that area only.

provider_summary condenses percentages to one row per provider (the medians of its
locations); peer_statement_means gives each provider's mean statement scores beside the mean
of its peers (a median of whole-number scores is nearly always 3); peer_trend follows the
peers over time: every assessment in each period, not only the current ones, of other
providers' locations sharing a chosen provider's `peers_by` values.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from queries.current import selected
from queries.filters import ALL, DEREGISTERED, MIN_N, Filters
from queries.groups import assessments, low_n, percentile_rank
from queries.trends import PERIODS, Period

SIZE = "size_band"
PEER_KEYS = ("service_type", "region", "local_authority", SIZE)
# Size bands by the provider's registered locations in the data: band -> its largest count
# (None: no limit). The one definition; the page's help and captions read it.
SIZE_BANDS: dict[str, int | None] = {
    "1 location": 1,
    "2-5 locations": 5,
    "6-20 locations": 20,
    "21+ locations": None,
}
SIZE_BAND = pl.Enum(list(SIZE_BANDS))
_SMALLEST, *_, _LARGEST = SIZE_BANDS
_WHO = ("location_id", "location_name", "provider_id", "provider_name")
_CHOICE = frozenset({"providers", "locations"})
_STATEMENT = ["key_question", "statement_id", "statement"]


def _chosen(providers: Sequence[str], locations: Sequence[str]) -> pl.Expr:
    return pl.col("provider_id").is_in(list(providers)) | pl.col("location_id").is_in(
        list(locations)
    )


def _known(peers_by: Sequence[str]) -> list[str]:
    """`peers_by` as a list; ValueError for anything but PEER_KEYS."""
    if unknown := set(peers_by) - set(PEER_KEYS):
        raise ValueError(f"peers_by takes {PEER_KEYS}, not {sorted(unknown)}")
    return list(peers_by)


def size_band(locations: pl.Expr) -> pl.Expr:
    """size_band: the SIZE_BANDS band of a number of locations (below 1 counts as 1)."""
    bands = [(band, most) for band, most in SIZE_BANDS.items() if most is not None]
    chain = pl.when(locations <= bands[0][1]).then(pl.lit(bands[0][0]))
    for band, most in bands[1:]:
        chain = chain.when(locations <= most).then(pl.lit(band))
    return chain.otherwise(pl.lit(_LARGEST)).cast(SIZE_BAND).alias(SIZE)


def provider_sizes(key_questions: pl.LazyFrame) -> pl.DataFrame:
    """Each provider's registered locations in the data and its size band.

    Columns: provider_id, locations (CQC has not deregistered; none counts as 0, band 1),
    size_band.
    """
    registered = pl.col("registration_status").ne_missing(DEREGISTERED)
    return (
        key_questions.filter(pl.col("provider_id").is_not_null())
        .group_by("provider_id")
        .agg(locations=pl.col("location_key").filter(registered).n_unique().cast(pl.UInt32))
        .with_columns(size_band(pl.col("locations")))
        .sort("provider_id")
        .collect()
    )


def _sized(rows: pl.LazyFrame, sizes: pl.DataFrame) -> pl.LazyFrame:
    """`rows` with each provider's size_band (a location without a provider: the first)."""
    bands = sizes.lazy().select("provider_id", SIZE)
    return rows.join(bands, on="provider_id", how="left", maintain_order="left").with_columns(
        pl.col(SIZE).fill_null(pl.lit(_SMALLEST, dtype=SIZE_BAND))
    )


def _pool(
    rows: pl.LazyFrame,
    peers_by: list[str],
    item: list[str],
    value: str,
    sizes: pl.DataFrame | None,
    frame: pl.LazyFrame,
) -> pl.LazyFrame:
    """The columns peers are drawn from: who, [peers_by], [item], value (sized on demand)."""
    stated = [c for c in peers_by if c != SIZE]
    rows = rows.select(*_WHO, *stated, *item, value)
    if SIZE in peers_by:
        rows = _sized(rows, provider_sizes(frame) if sizes is None else sizes)
    return rows.select(*_WHO, *peers_by, *item, value)


def _peer_counts(
    pool: pl.LazyFrame, targets: pl.DataFrame, group: list[str], peers_by: list[str], value: str
) -> pl.LazyFrame:
    """How many peers of each chosen provider have each value.

    Columns: target_provider, [group], peer_value, count.
    """
    keys = [*group, "peer_value"]
    values = pool.select("provider_id", *group, peer_value=value)
    # Every provider's values in the chosen rows' groups, less each chosen provider's own: a
    # join of the pool to the chosen rows, or a count per provider, hashes millions of rows on
    # many keys. is_in on values known once the (few) chosen rows are in hand narrows cheaply.
    near = values.filter(*(pl.col(c).is_in(targets[c].unique().implode()) for c in peers_by))
    every = near.group_by(keys).agg(every=pl.len())
    providers = targets["provider_id"].unique().implode()
    # nulls_equal: to a location without a provider, the others without one are its own
    own = (
        values.filter(pl.col("provider_id").is_in(providers, nulls_equal=True))
        .group_by("provider_id", *keys)
        .agg(own=pl.len())
    )
    return (
        targets.lazy()
        .select(*group, target_provider="provider_id")
        .unique()
        .join(every, on=group)
        .join(
            own,
            left_on=["target_provider", *keys],
            right_on=["provider_id", *keys],
            how="left",
            nulls_equal=True,
        )
        .select("target_provider", *keys, count=pl.col("every") - pl.col("own").fill_null(0))
        .filter(pl.col("count") > 0)
    )


def _quantile(q: float) -> pl.Expr:
    """Linear quantile `q` of peer_value, each value counted `count` times.

    Without repeating the values: the values at positions floor and ceil of (n - 1) * q,
    interpolated as quantile(q, "linear") does.
    """
    count, peer_value = pl.col("count"), pl.col("peer_value")
    position = (count.sum() - 1) * q
    ordered = peer_value.sort_by(peer_value)
    reached = count.sort_by(peer_value).cum_sum()  # values at positions below this
    lower = ordered.filter(reached > position.floor()).first()
    upper = ordered.filter(reached > position.ceil()).first()
    return lower + (position - position.floor()) * (upper - lower)


def _targets_and_counts(
    pool: pl.LazyFrame,
    group: list[str],
    value: str,
    chosen: pl.Expr,
    peers_by: list[str],
    peer_providers: Sequence[str],
) -> tuple[pl.DataFrame, pl.LazyFrame]:
    """The chosen rows of `pool` (collected) and their peers' counts (_peer_counts)."""
    pool = pool.filter(pl.col(value).is_not_null())
    # Collected in stages, the chosen rows (few) first, then their peers' counts (small): as one
    # plan it runs slower. What is left is small, faster on the in-memory engine (callers).
    targets = pool.filter(chosen).collect()
    peers = pool
    if peer_providers:
        peers = pool.filter(pl.col("provider_id").is_in(list(peer_providers)))
    return targets, _peer_counts(peers, targets, group, peers_by, value).collect().lazy()


def _beside_peers(
    pool: pl.LazyFrame,
    item: list[str],
    value: str,
    chosen: pl.Expr,
    peers_by: list[str],
    peer_providers: Sequence[str] = (),
) -> pl.LazyFrame:
    """The chosen rows of `pool` with n, peer quartiles and percentile_rank of `value`."""
    group = [*peers_by, *item]
    by_provider = {"left_on": ["provider_id", *group], "right_on": ["target_provider", *group]}
    targets, counts = _targets_and_counts(pool, group, value, chosen, peers_by, peer_providers)
    peer_value, count, target_value = pl.col("peer_value"), pl.col("count"), pl.col(value)
    stats = counts.group_by("target_provider", *group).agg(
        n=count.sum(),
        peer_p25=_quantile(0.25),
        peer_median=_quantile(0.5),
        peer_p75=_quantile(0.75),
    )
    ranks = (
        targets.lazy()
        .join(counts, **by_provider)
        .group_by("location_id", *item)
        .agg(
            below=count.filter(peer_value < target_value).sum(),
            ties=count.filter(peer_value == target_value).sum(),
        )
    )
    return (
        targets.lazy()
        .join(stats, **by_provider, how="left")
        .join(ranks, on=["location_id", *item], how="left")
        .with_columns(pl.col("n", "below", "ties").fill_null(0))
        .with_columns(percentile_rank("below", "ties"))
        .drop("below", "ties")
        .sort("location_id", *item)
    )


def peer_percentages(
    key_questions: pl.LazyFrame,
    *,
    providers: Sequence[str] = (),
    locations: Sequence[str] = (),
    peers_by: Sequence[str] = ("service_type",),
    peer_providers: Sequence[str] = (),
    sizes: pl.DataFrame | None = None,
    filters: Filters = ALL,
    min_n: int = MIN_N,
) -> pl.DataFrame:
    """Each chosen location's current percentages beside its peers.

    `peer_providers`: peers only among their locations; `sizes`: provider_sizes (by default
    of `key_questions`). Columns: location_id, location_name, provider_id, provider_name,
    [peers_by], key_question, key_question_score, n (peers), peer_p25, peer_median, peer_p75,
    percentile_rank, low_n.
    """
    item, value, peers_by = ["key_question"], "key_question_score", _known(peers_by)
    rows = selected(key_questions, filters, latest=True, scored=True, skip=_CHOICE)
    pool = _pool(rows, peers_by, item, value, sizes, key_questions)
    chosen = _chosen(providers, locations)
    result = _beside_peers(pool, item, value, chosen, peers_by, peer_providers)
    return result.with_columns(low_n(min_n)).collect(engine="in-memory")


def peer_statement_scores(
    scores: pl.LazyFrame,
    *,
    providers: Sequence[str] = (),
    locations: Sequence[str] = (),
    peers_by: Sequence[str] = ("service_type",),
    peer_providers: Sequence[str] = (),
    sizes: pl.DataFrame | None = None,
    filters: Filters = ALL,
    min_n: int = MIN_N,
) -> pl.DataFrame:
    """Each chosen location's current statement scores beside its peers.

    Options as peer_percentages' (`sizes` by default of `scores`: pass the key_questions
    frame's for the same bands). Columns: location_id, location_name, provider_id,
    provider_name, [peers_by], key_question, statement_id, statement, score, n (peers),
    peer_p25, peer_median, peer_p75, percentile_rank, low_n.
    """
    item, value, peers_by = _STATEMENT, "score", _known(peers_by)
    pool = _statement_pool(scores, filters, peers_by, sizes)
    chosen = _chosen(providers, locations)
    result = _beside_peers(pool, item, value, chosen, peers_by, peer_providers)
    return result.with_columns(low_n(min_n)).collect(engine="in-memory")


def _statement_pool(
    scores: pl.LazyFrame, filters: Filters, peers_by: list[str], sizes: pl.DataFrame | None
) -> pl.LazyFrame:
    rows = selected(scores, filters, latest=True, scored=True, skip=_CHOICE).filter(
        pl.col("statement_id").is_not_null()
    )
    return _pool(rows, peers_by, _STATEMENT, "score", sizes, scores)


def peer_statement_means(
    scores: pl.LazyFrame,
    *,
    providers: Sequence[str] = (),
    locations: Sequence[str] = (),
    peers_by: Sequence[str] = ("service_type",),
    peer_providers: Sequence[str] = (),
    sizes: pl.DataFrame | None = None,
    filters: Filters = ALL,
    min_n: int = MIN_N,
) -> pl.DataFrame:
    """Per chosen provider and statement, its locations' mean current score beside its peers'.

    A provider's peers are those of any of its locations (peer_statement_scores), each counted
    once; options as there. Columns: provider_id, provider_name, key_question, statement_id,
    statement, locations (its scored locations), score (their mean), peers (n), peer_mean,
    difference (score - peer_mean), low_n (peers < min_n).
    """
    item, value, peers_by = _STATEMENT, "score", _known(peers_by)
    pool = _statement_pool(scores, filters, peers_by, sizes)
    chosen = _chosen(providers, locations)
    group = [*peers_by, *item]
    targets, counts = _targets_and_counts(pool, group, value, chosen, peers_by, peer_providers)
    count, peer_value = pl.col("count"), pl.col("peer_value")
    # The peer groups of one provider's locations (one per peers_by value) hold different
    # locations, so summing over them counts each peer once.
    theirs = counts.group_by("target_provider", *item).agg(
        peers=count.sum(), peer_mean=(peer_value * count).sum() / count.sum()
    )
    mine = (
        targets.lazy()
        .group_by("provider_id", "provider_name", *item)
        .agg(locations=pl.col("location_id").n_unique().cast(pl.UInt32), score=pl.col(value).mean())
    )
    return (
        mine.join(
            theirs,
            left_on=["provider_id", *item],
            right_on=["target_provider", *item],
            how="left",
            nulls_equal=True,
        )
        .with_columns(pl.col("peers").fill_null(0))
        .with_columns(
            difference=pl.col("score") - pl.col("peer_mean"), low_n=pl.col("peers") < min_n
        )
        .sort("provider_name", "provider_id", *item)
        .collect(engine="in-memory")
    )


def provider_summary(
    beside: pl.DataFrame, value: str, item: Sequence[str], *, min_n: int = MIN_N
) -> pl.DataFrame:
    """Per provider and item of a peer frame, the medians of its locations.

    The frame is peer_percentages' or peer_statement_scores'. Columns: provider_id, provider_name,
    [item], locations, [value], peer_p25, peer_median, peer_p75, percentile_rank, peers (median n),
    low_n (peers < min_n).
    """
    medians = (value, "peer_p25", "peer_median", "peer_p75", "percentile_rank")
    return (
        beside.group_by("provider_id", "provider_name", *item)
        .agg(
            pl.col("location_id").n_unique().alias("locations"),
            pl.col(medians).median(),
            peers=pl.col("n").median(),
        )
        .with_columns(low_n=pl.col("peers") < min_n)
        .sort("provider_name", *item)
    )


def peer_trend(
    key_questions: pl.LazyFrame,
    *,
    providers: Sequence[str] = (),
    peers_by: Sequence[str] = ("service_type",),
    peer_providers: Sequence[str] = (),
    sizes: pl.DataFrame | None = None,
    filters: Filters = ALL,
    period: Period = "quarter",
    min_n: int = MIN_N,
) -> pl.DataFrame:
    """The chosen providers' peers' key question percentages per period.

    Options as peer_percentages'. Columns: period_start, n (assessments), peer_p25,
    peer_median, peer_p75, low_n.
    """
    score, peers_by = pl.col("key_question_score"), _known(peers_by)
    rows = selected(key_questions, filters, skip=_CHOICE).filter(score.is_not_null())
    if SIZE in peers_by:
        rows = _sized(rows, provider_sizes(key_questions) if sizes is None else sizes)
    mine = pl.col("provider_id").is_in(list(providers))
    pool = rows.filter(~mine)
    if peer_providers:
        pool = pool.filter(pl.col("provider_id").is_in(list(peer_providers)))
    if peers_by:
        pool = pool.join(rows.filter(mine).select(peers_by).unique(), on=peers_by)
    return (
        pool.group_by(period_start=pl.col("assessment_date").dt.truncate(PERIODS[period]))
        .agg(
            n=assessments(["period_start"], "key_question"),
            peer_p25=score.quantile(0.25, "linear"),
            peer_median=score.median(),
            peer_p75=score.quantile(0.75, "linear"),
        )
        .with_columns(low_n(min_n))
        .sort("period_start")
        .collect()
    )
