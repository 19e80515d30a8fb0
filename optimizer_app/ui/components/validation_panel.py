"""The detail page's out-of-sample card (hold-out: in- against out-of-sample metrics per Top-N
row and their scatter; walk-forward: each fold, the stitched equity and the efficiency) and
the parameter-stability card."""

from __future__ import annotations

import reflex as rx

from optimizer_app.ui.components.combination_charts import MONEY_TICK
from optimizer_app.ui.components.form_fields import Text
from optimizer_app.ui.states.validation import ValidationState
from optimizer_app.ui.theme import space
from optimizer_app.ui.validation_view import FoldRow, HoldoutRow, StabilityRow

# "2008-08-21" → "Aug 2008"
MONTH_TICK = (
    "(iso) => { const d = new Date(iso + 'T00:00:00Z'); return isNaN(d) ? iso : "
    "d.toLocaleDateString('en-GB', {month: 'short', year: 'numeric', timeZone: 'UTC'}); }"
)

V = ValidationState
NUMERIC = {"text_align": "right", "font_variant_numeric": "tabular-nums", "white_space": "nowrap"}
NOWRAP = {"white_space": "nowrap"}


def _header(*columns: tuple[str, bool]) -> rx.Component:
    return rx.table.header(rx.table.row(*[
        rx.table.column_header_cell(label, style={"text_align": "right", **NOWRAP}
                                    if numeric else NOWRAP)
        for label, numeric in columns
    ]))


def _table(header: rx.Component, body: rx.Component, label: str, testid: str
           ) -> rx.Component:
    return rx.box(
        rx.table.root(header, body, variant="ghost", size="1", width="100%", aria_label=label),
        overflow_x="auto",
        width="100%",
        custom_attrs={"data-testid": testid},
    )


def _holdout_row(row: HoldoutRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row.rank, style={"font_variant_numeric": "tabular-nums"}),
        rx.table.cell(row.params, style=NOWRAP),
        rx.table.cell(row.in_score, style=NUMERIC),
        rx.table.cell(rx.text(row.out_score, weight="bold"), style=NUMERIC),
        rx.table.cell(rx.text(row.change, color_scheme=row.change_color), style=NUMERIC),  # type: ignore[arg-type]
        rx.table.cell(row.in_return, style=NUMERIC),
        rx.table.cell(row.out_return, style=NUMERIC),
        rx.table.cell(row.out_drawdown, style=NUMERIC),
        rx.table.cell(row.out_trades, style=NUMERIC),
        align="center",
    )


def _scatter() -> rx.Component:
    return rx.box(
        rx.recharts.scatter_chart(
            rx.recharts.cartesian_grid(stroke_dasharray="3 3", stroke="var(--gray-a5)"),
            rx.recharts.x_axis(data_key="inSample", type_="number", name="In sample",
                               domain=["auto", "auto"], tick_count=6,
                               label={"value": "In-sample score", "position": "insideBottom",
                                      "offset": -8}),
            rx.recharts.y_axis(data_key="outOfSample", type_="number", name="Out of sample",
                               domain=["auto", "auto"], width=64,
                               label={"value": "Out-of-sample score", "angle": -90,
                                      "position": "insideLeft",
                                      "style": {"textAnchor": "middle"}}),
            rx.recharts.z_axis(data_key="rank", name="Rank", range=[70, 70]),
            rx.recharts.graphing_tooltip(cursor={"strokeDasharray": "3 3"}),
            rx.recharts.scatter(data=V.view.sample, name="Grid sample", fill="var(--gray-a7)",
                                is_animation_active=False),
            rx.recharts.scatter(data=V.view.scatter, name="Top-N", fill="var(--accent-9)",
                                is_animation_active=False),
            rx.recharts.legend(vertical_align="top", height=28),
            height=280,
            width="100%",
            margin={"top": 8, "right": 16, "bottom": 16, "left": 8},
        ),
        width="100%",
        role="img",
        aria_label="In-sample against out-of-sample score chart",
    )


def _holdout() -> rx.Component:
    return rx.vstack(
        _table(
            _header(("Rank", False), ("Parameters", False), ("In-sample score", True),
                    ("Out-of-sample score", True), ("Change", True), ("In-sample return", True),
                    ("Out-of-sample return", True), ("OOS max drawdown", True),
                    ("OOS trades", True)),
            rx.table.body(rx.foreach(V.view.holdout, _holdout_row)),
            "In-sample against out-of-sample metrics",
            "holdout-table",
        ),
        rx.heading("In-sample against out-of-sample score", size="3", as_="h3"),
        _scatter(),
        spacing="3",
        width="100%",
    )


def _fold_row(row: FoldRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row.fold),
        rx.table.cell(row.train, style=NOWRAP),
        rx.table.cell(row.test, style=NOWRAP),
        rx.table.cell(row.params, style=NOWRAP),
        rx.table.cell(row.in_score, style=NUMERIC),
        rx.table.cell(rx.text(row.out_score, weight="bold"), style=NUMERIC),
        rx.table.cell(row.out_return, style=NUMERIC),
        align="center",
    )


def _stat(label: str, value: Text, testid: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray"),
        rx.text(value, size="4", weight="bold", custom_attrs={"data-testid": testid}),
        spacing="0",
    )


def _curve() -> rx.Component:
    return rx.box(
        rx.recharts.line_chart(
            rx.recharts.cartesian_grid(stroke_dasharray="3 3", stroke="var(--gray-a5)"),
            rx.recharts.x_axis(data_key="date", min_tick_gap=40, tick_formatter=MONTH_TICK),
            rx.recharts.y_axis(domain=["auto", "auto"], width=72, tick_formatter=MONEY_TICK),
            rx.recharts.graphing_tooltip(),
            rx.recharts.legend(),
            rx.recharts.line(data_key="equity", name="Walk-forward (out of sample)",
                             stroke="var(--accent-9)", dot=False, stroke_width=2,
                             is_animation_active=False),
            rx.recharts.line(data_key="benchmark", name="Buy and hold", stroke="var(--gray-9)",
                             dot=False, stroke_dasharray="4 3", is_animation_active=False),
            data=V.view.curve,
            height=280,
            width="100%",
            margin={"top": 8, "right": 16, "bottom": 8, "left": 8},
        ),
        width="100%",
        role="img",
        aria_label="Stitched out-of-sample equity against buy and hold chart",
    )


def _walkforward() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            _stat("Walk-forward efficiency", V.view.efficiency, "wf-efficiency"),
            _stat("Out-of-sample annualized return", V.view.out_annual, "wf-oos-annual"),
            _stat("In-sample annualized return (mean of folds)", V.view.in_annual,
                  "wf-is-annual"),
            spacing="6",
            flex_wrap="wrap",
        ),
        _table(
            _header(("Fold", False), ("Training", False), ("Test", False),
                    ("Chosen parameters", False), ("In-sample score", True),
                    ("Out-of-sample score", True), ("Out-of-sample return", True)),
            rx.table.body(rx.foreach(V.view.folds, _fold_row)),
            "Walk-forward folds",
            "folds-table",
        ),
        rx.heading("Stitched out-of-sample equity", size="3", as_="h3"),
        _curve(),
        spacing="3",
        width="100%",
    )


def _pending() -> rx.Component:
    return rx.callout(V.view.progress_text, icon="hourglass", color_scheme="gray", width="100%",
                      custom_attrs={"data-testid": "validation-pending"})


def validation_card() -> rx.Component:
    return rx.cond(
        V.has_validation,
        rx.el.section(
            rx.card(
                rx.vstack(
                    rx.heading("Out-of-sample check", size="4", as_="h2"),
                    rx.text(V.view.settings_text, size="2", color_scheme="gray"),
                    rx.cond(V.view.split_text != "",
                            rx.text(V.view.split_text, size="2", color_scheme="gray")),
                    rx.match(
                        V.view.status,
                        ("pending", _pending()),
                        ("failed", rx.callout(V.view.error, icon="circle-alert",
                                              color_scheme="red", role="alert", width="100%")),
                        rx.cond(V.view.kind == "holdout", _holdout(), _walkforward()),
                    ),
                    spacing="3",
                    width="100%",
                ),
                size="3",
                width="100%",
            ),
            aria_label="Out-of-sample check",
            width="100%",
        ),
    )


def _stability_row(row: StabilityRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row.rank, style={"font_variant_numeric": "tabular-nums"}),
        rx.table.cell(row.params, style=NOWRAP),
        rx.table.cell(rx.text(row.score, weight="bold"), style=NUMERIC),
        rx.table.cell(row.mean, style=NUMERIC),
        rx.table.cell(row.worst, style=NUMERIC),
        rx.table.cell(row.neighbours, style=NUMERIC),
        align="center",
    )


def stability_card() -> rx.Component:
    return rx.cond(
        V.stability_loaded & (V.stability.length() > 0),  # type: ignore[attr-defined]
        rx.el.section(
            rx.card(
                rx.vstack(
                    rx.heading("Parameter stability", size="4", as_="h2"),
                    rx.text(
                        "How each row's grid neighbours (one step up or down in one parameter)"
                        " score: a plateau is more trustworthy than a spike. ",
                        rx.cond(V.ranked_by_neighbours,
                                "Ranked by neighbourhood mean.", "Ranked by score."),
                        size="2", color_scheme="gray",
                    ),
                    _table(
                        _header(("Rank", False), ("Parameters", False), ("Score", True),
                                ("Neighbour mean", True), ("Neighbour worst", True),
                                ("Neighbours", True)),
                        rx.table.body(rx.foreach(V.stability, _stability_row)),
                        "Parameter stability",
                        "stability-table",
                    ),
                    spacing="3",
                    width="100%",
                ),
                size="3",
                width="100%",
            ),
            aria_label="Parameter stability",
            width="100%",
            padding_top=space(0),
        ),
    )
