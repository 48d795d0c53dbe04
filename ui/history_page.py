"""History page: how customers move between segments from snapshot to snapshot, and the saved runs."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from segmentation.clustering.names import METHOD_LABELS
from segmentation.clustering.present import TRAITS, display_names, ordered_segments, segment_colors
from segmentation.errors import SegmentationError
from segmentation.export import export_table
from segmentation.features import feature_label
from segmentation.formatting import money
from segmentation.migration import (
    GONE,
    NEW,
    largest_move,
    migration_matrix,
    movers,
    order_matrix,
    snapshot_segments,
    value_moves,
)
from segmentation.migration_plotting import (
    day_label,
    migration_colors,
    migration_heatmap,
    migration_sankey,
    sizes_chart,
    value_moves_chart,
)
from segmentation.privacy.small_groups import K_ANONYMITY, shareable_profiles, small_group_warning
from segmentation.store import RunStore, run_id_for
from ui import components, export_widgets, state
from ui.value_widgets import FIRST_FIT, clv_settings

MONTHS_BACK = 4
Names = tuple[tuple[int, str], ...]


def render() -> None:
    current = state.segmentation()
    if current is None:
        components.no_segmentation_yet("shows how customers move between them from month to month")
    else:
        show_migration(current)
    show_saved_runs()


def snapshot_options(current: state.Segmentation) -> list[date]:
    """Every month start after the first purchase, and the day after the last purchase."""
    first = pd.Timestamp(components.overview(current.dataset, current.config).kpis["first_ts"]).date()
    last = components.snapshot_default(current.dataset, current.config)
    starts = pd.date_range(pd.Timestamp(first) + pd.offsets.MonthBegin(1), pd.Timestamp(last), freq="MS")
    options = [d.date() for d in starts]
    return options if options and options[-1] == last else [*options, last]


@st.cache_data(show_spinner=False, max_entries=64)
def snapshot(current: state.Segmentation, as_of: date, names: Names) -> pd.Series:
    """Segment name of every customer as of ``as_of``, assigned by the Segments page's fitted model."""
    s = current
    model = components.fit_segmentation(s.dataset, s.config, s.features, s.chosen, s.method, s.params)
    for segment, name in names:
        model.rename(segment, name)
    transactions = components.load(s.dataset, s.config).transactions
    return snapshot_segments(transactions, model, [as_of], s.features)[as_of]


def snapshots(current: state.Segmentation, dates: list[date], names: Names) -> dict[date, pd.Series]:
    """Every chosen snapshot, with a progress bar while new ones are computed (each date is cached on its own)."""
    slot = st.empty()
    out = {}
    try:
        bar = slot.progress(0.0, text="Segmenting the snapshots…")
        for i, as_of in enumerate(dates):
            bar.progress(
                i / len(dates), text=f"Segmenting the customers as of {day_label(as_of)} ({i + 1} of {len(dates)})…"
            )
            out[as_of] = snapshot(current, as_of, names)
    finally:
        slot.empty()
    return out


# --- migration ----------------------------------------------------------------------------------------------------------


def show_migration(current: state.Segmentation) -> None:
    try:
        model = state.current_model(current)
        options = snapshot_options(current)
    except SegmentationError as exc:
        components.show_error(exc)
        return
    order = ordered_segments(model)
    names = display_names(model, order)
    colors = migration_colors({names[s]: c for s, c in segment_colors(order).items()})
    st.caption(
        f"How the customers of **{components.escape(current.dataset.name)}** move between the {len(order)} segments of the "
        f"Segments page ({METHOD_LABELS[current.method]}). Every snapshot is segmented by the same fitted model, so a "
        "segment means the same thing at every date; a customer appears from their first purchase on."
    )
    key = f"history_dates_{current.dataset.digest[:16]}"
    default = options[-(MONTHS_BACK + 1) :]
    chosen = st.multiselect(
        "Snapshot dates",
        options,
        [d for d in state.kept(key, default) if d in options],
        format_func=day_label,
        placeholder="Choose two dates or more",
        help="Each snapshot counts the purchases before that day. Default: month starts over the last "
        f"{MONTHS_BACK} months of the data.",
        **state.keeping(key),
    )
    dates = sorted(chosen)
    if len(dates) < 2:
        st.info("Choose at least two snapshot dates to see how customers move.", icon=":material/date_range:")
        return
    try:
        snaps = snapshots(current, dates, tuple(names.items()))
    except SegmentationError as exc:
        components.show_error(exc)
        return
    segment_order = [names[s] for s in order]
    k = current.config.privacy.min_group_size
    small = small_group_warning(
        model.profiles_["customers"], k, names, consequence="keep them out of reports you share"
    )
    if small:
        st.warning(components.escape(small), icon=":material/visibility_off:")
    show_sizes(snaps, segment_order, colors)

    st.subheader("Who moved where")
    left, right, _ = st.columns([1, 1, 2])
    before = left.selectbox("From snapshot", dates[:-1], index=0, format_func=day_label, key="history_from")
    later = [d for d in dates if d > before]
    after = right.selectbox("To snapshot", later, index=len(later) - 1, format_func=day_label, key="history_to")
    matrix = order_matrix(migration_matrix(snaps[before], snaps[after]), segment_order)
    heatmap, sankey = st.columns([2, 3])
    with heatmap:
        show_matrix(matrix, before, after, k)
    with sankey:
        show_sankey(matrix, before, after, colors)
    show_movers(current, snaps[before], snaps[after], before, after, matrix, names)
    show_value_moves(current, snaps[before], snaps[after], before, after)


def show_sizes(snaps: dict[date, pd.Series], segment_order: list[str], colors: dict[str, str]) -> None:
    st.subheader("Segment sizes over time")
    st.plotly_chart(sizes_chart(snaps, segment_order, colors), config={"displaylogo": False})
    st.caption("The stack grows as new customers make their first purchase.")


def show_matrix(matrix: pd.DataFrame, before: date, after: date, k: int) -> None:
    st.plotly_chart(migration_heatmap(matrix, before, after), config={"displaylogo": False})
    st.caption(
        f"Customers per segment on {day_label(before)} (rows) and on {day_label(after)} (columns); the diagonal "
        f"stayed. *{NEW}*: first purchase in between; *{GONE}*: absent later. Colours on a log scale."
    )
    moves = matrix.stack()
    small = small_group_warning(
        moves, k, {move: " → ".join(move) for move in moves.index}, "move", "keep them out of reports you share"
    )
    if small:
        st.caption(components.escape(small))


def show_sankey(matrix: pd.DataFrame, before: date, after: date, colors: dict[str, str]) -> None:
    st.plotly_chart(migration_sankey(matrix, before, after, colors), config={"displaylogo": False})
    st.caption("Each band is a group of customers moving from one segment to another; its width is their number.")


def show_movers(
    current: state.Segmentation,
    first: pd.Series,
    second: pd.Series,
    before: date,
    after: date,
    matrix: pd.DataFrame,
    names: dict[int, str],
) -> None:
    st.subheader("Export the movers")
    segments = list(names.values())
    source, target = largest_move(matrix, segments) or (segments[0], segments[0])
    left, right, _ = st.columns([1, 1, 2])
    source = left.selectbox("From segment", segments, index=segments.index(source), key="movers_from")
    target = right.selectbox("To segment", segments, index=segments.index(target), key="movers_to")
    ids = movers(first, second, source, target)
    verb = "stayed in" if source == target else "moved to"
    st.markdown(
        f"**{len(ids):,} customers** were in **{components.escape(source)}** on {day_label(before)} and {verb} "
        f"**{components.escape(target)}** on {day_label(after)}."
    )
    if not len(ids):
        st.info("No customer made this move; choose another pair (the largest move is chosen first).")
        return
    audience = f"{source} → {target}"
    frame = pd.DataFrame(
        {
            "customer_id": ids.astype(str),
            "segment_before": source,
            "segment_after": target,
            "snapshot_before": before.isoformat(),
            "snapshot_after": after.isoformat(),
        }
    )
    stem = f"movers_{before:%Y%m%d}_{after:%Y%m%d}"
    st.download_button(
        f"Download their {len(ids):,} customer IDs (CSV)",
        data=frame.to_csv(index=False).encode(),
        file_name=f"{stem}_customers.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        key="movers_ids",
    )
    with st.expander(f"Export them for your CRM, as the audience “{audience}”"):
        crm = export_widgets.crm_choice("movers_crm")
        segment = {name: s for s, name in names.items()}[target]
        assignments = pd.DataFrame({"segment": segment, "segment_name": audience}, index=ids)
        try:
            mails = export_widgets.emails(current.dataset, current.config)
            settings = export_widgets.run_config(current)
            run_id = run_id_for(settings, current.dataset.digest)
            table = export_table(assignments, None, mails, None, run_id, after)
            run = {
                "run_id": run_id,
                "movers": {"from": source, "to": target, "before": before.isoformat(), "after": after.isoformat()},
                **settings,
            }
            result = export_widgets.write_export(table, crm, None, run, stem="movers")
        except SegmentationError as exc:
            components.show_error(exc)
            return
        for warning in result.warnings:
            st.warning(warning[0].upper() + warning[1:] + ".", icon=":material/warning:")
        st.markdown(f"**{result.rows:,} customers** in `{result.files[0].name}`.")
        if result.rows:
            export_widgets.offer_downloads(result, "movers")


def show_value_moves(
    current: state.Segmentation, first: pd.Series, second: pd.Series, before: date, after: date
) -> None:
    st.subheader("How value moved")
    horizon, rate = clv_settings()
    workflow = components.analysis(current.dataset, current.config)
    run_id = f"history_value_{current.dataset.digest}_{before}_{after}_{horizon}_{rate}"
    if not all(workflow.done("customer_value", d, horizon, rate) for d in (before, after)):
        eta = components.expected(current.dataset, current.config, "customer_value")
        help_text = (
            f"Fits BG/NBD + Gamma-Gamma at both snapshots ({f'usually {eta} each on this file; ' if eta else ''}"
            f"{FIRST_FIT[0].lower()}{FIRST_FIT[1:]})"
        )
        if not state.asked(
            run_id, "Compare predicted lifetime value", ":material/trending_up:", help_text, "history_value"
        ):
            st.caption(
                f"The predicted lifetime value of the customers on {day_label(before)} and on {day_label(after)}, by move. {help_text}"
            )
            return
    with state.cancellable(run_id, "history_value_cancel"), st.spinner("Predicting lifetime value at both snapshots…"):
        values = [workflow.customer_value(d, horizon, rate)["clv"] for d in (before, after)]
    moves = value_moves(first, second, *values)
    currency = components.currency(current.dataset, current.config)
    total = moves["change"].sum()
    st.markdown(
        f"Predicted {horizon}-day lifetime value of all customers: **{money(values[0].sum(), currency)}** on "
        f"{day_label(before)}, **{money(values[1].sum(), currency)}** on {day_label(after)} "
        f"({'+' if total >= 0 else ''}{money(total, currency)})."
    )
    st.plotly_chart(value_moves_chart(moves, before, after, currency), config={"displaylogo": False})
    st.caption(
        "Each bar is a group of customers that moved from one segment to another (or stayed): the change in their "
        "predicted lifetime value between the snapshots, each predicted from the purchases before its date. Horizon "
        "and discount rate as set on the Value page."
    )


# --- saved runs -----------------------------------------------------------------------------------------------------------


def show_saved_runs() -> None:
    st.subheader("Saved runs")
    path = components.RUN_STORE
    if not path.is_file():
        st.caption(f"No run is saved in `{path}` yet. Save one on the Export page.")
        st.page_link("ui/export_page.py", label="Go to the Export page", icon=":material/ios_share:")
        return
    store = RunStore(path)
    try:
        runs = store.runs()
    except SegmentationError as exc:
        components.show_error(exc)
        return
    if runs.empty:
        st.caption(f"No run is saved in `{path}` yet. Save one on the Export page.")
        return
    runs["method"] = runs["method"].map(lambda m: METHOD_LABELS.get(m, m))
    st.caption(f"Runs saved in `{path}`, newest first.")
    st.dataframe(
        runs.drop(columns="data_fingerprint"),
        hide_index=True,
        column_config={
            "run_id": "Run",
            "created_at": st.column_config.DatetimeColumn("Saved (UTC)", format="YYYY-MM-DD HH:mm"),
            "source": "Data",
            "as_of": st.column_config.DateColumn("Features as of"),
            "method": "Method",
            "n_customers": st.column_config.NumberColumn("Customers", format="%,d"),
            "n_segments": st.column_config.NumberColumn("Segments", format="%d"),
        },
    )
    described = {
        row.run_id: f"{row.run_id} · {row.source} · {row.method}, {row.n_segments} segments · "
        f"saved {row.created_at:%Y-%m-%d %H:%M}"
        for row in runs.itertuples()
    }
    run_id = st.selectbox("Reopen a run", list(described), format_func=described.get, key="history_run")
    try:
        saved = store.load(run_id)
    except SegmentationError as exc:
        components.show_error(exc)
        return
    show_saved_run(saved.run_id, saved.info, saved.assignments, saved.profiles)


def show_saved_run(run_id: str, info: dict, assignments: pd.DataFrame, profiles: pd.DataFrame) -> None:
    as_of = pd.Timestamp(info["as_of"]).date() if pd.notna(info["as_of"]) else None
    st.markdown(
        f"Run **{run_id}**: {components.escape(info['source'])}, {METHOD_LABELS.get(info['method'], info['method'])} with "
        f"{info['n_segments']} segments on {info['n_customers']:,} customers"
        + (f", features as of {day_label(as_of)}" if as_of else "")
        + (", computed on Spark" if info["config"].get("engine") == "spark" else "")
        + "."
    )
    loaded = state.loaded()
    k = loaded[1].privacy.min_group_size if loaded else K_ANONYMITY
    small = small_group_warning(
        profiles["customers"],
        k,
        profiles["name"].to_dict(),
        consequence="the profiles download leaves them blank; keep them out of reports you share",
    )
    if small:
        st.warning(components.escape(small), icon=":material/visibility_off:")
    medians = [f for f in TRAITS if f"median_{f}" in profiles]
    shown = profiles[["name", "customers", "share", "revenue_share", *[f"median_{f}" for f in medians]]]
    shown = shown.assign(share=100 * shown["share"], revenue_share=100 * shown["revenue_share"])  # one decimal
    config = {
        "name": "Segment",
        "customers": st.column_config.NumberColumn("Customers", format="%,d"),
        "share": st.column_config.NumberColumn("Share of customers", format="%.1f%%"),
        "revenue_share": st.column_config.NumberColumn("Share of revenue", format="%.1f%%"),
    }
    config |= {
        f"median_{f}": st.column_config.NumberColumn(f"{feature_label(f)} (median)", format="%,.1f") for f in medians
    }
    st.dataframe(shown.sort_values("customers", ascending=False), hide_index=True, column_config=config)
    left, right, _ = st.columns([3, 3, 4])
    left.download_button(
        "Download its assignments (CSV)",
        data=lambda: assignments.to_csv(),
        file_name=f"run_{run_id}_customers.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        key="run_assignments",
    )
    right.download_button(
        "Download its profiles (CSV)",
        data=lambda: shareable_profiles(profiles, k).to_csv(),
        file_name=f"run_{run_id}_profiles.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        key="run_profiles",
        help=f"One row per segment; a segment of fewer than {k} customers keeps only its name (suppressed = True).",
    )
    with st.expander("Settings of this run"):
        st.json(info["config"], expanded=False)


if __name__ == "__main__":
    render()
