"""A combination's equity curve against buy-and-hold, and its drawdown below the running peak
(in percent, as Max drawdown is shown everywhere)."""

from __future__ import annotations

import reflex as rx

from optimizer_app.ui.states.combination import CombinationState

S = CombinationState

# Tooltips and ticks format in the browser: money with thousands separators, dates readable.
MONEY = "(value) => Number(value).toLocaleString('en-US', {minimumFractionDigits: 2, maximumFractionDigits: 2})"
MONEY_TICK = "(value) => Number(value).toLocaleString('en-US', {maximumFractionDigits: 0})"
PERCENT = "(value) => Number(value).toFixed(2) + '%'"
PERCENT_TICK = "(value) => Number(value).toFixed(0) + '%'"
DAY = (
    "(iso) => { const d = new Date(iso + 'T00:00:00Z'); return isNaN(d) ? iso : "
    "d.toLocaleDateString('en-GB', {day: 'numeric', month: 'short', year: 'numeric', "
    "timeZone: 'UTC'}); }"
)
YEAR_TICK = "(iso) => String(iso).slice(0, 4)"
MARGIN = {"top": 8, "right": 16, "bottom": 8, "left": 8}


def _tooltip(value_format: str) -> rx.Component:
    return rx.recharts.graphing_tooltip(
        is_animation_active=False,
        custom_attrs={"formatter": rx.Var(value_format), "labelFormatter": rx.Var(DAY)},
    )


def _x_axis() -> rx.Component:
    return rx.recharts.x_axis(
        data_key="date", ticks=S.ticks, tick_formatter=YEAR_TICK, min_tick_gap=12,
        interval="preserveStart",
    )


def equity_chart() -> rx.Component:
    return rx.recharts.line_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", stroke="var(--gray-a5)"),
        _x_axis(),
        rx.recharts.y_axis(domain=["auto", "auto"], tick_formatter=MONEY_TICK, width=72),
        _tooltip(MONEY),
        rx.recharts.legend(vertical_align="top", wrapper_style={"paddingBottom": "8px"}),
        rx.recharts.line(
            data_key="equity",
            name="This combination",
            stroke="var(--accent-9)",
            stroke_width=2,
            dot=False,
            is_animation_active=False,
        ),
        rx.recharts.line(
            data_key="benchmark",
            name="Buy and hold",
            stroke="var(--gray-9)",
            stroke_width=1.5,
            stroke_dasharray="5 4",
            dot=False,
            is_animation_active=False,
        ),
        data=S.equity,
        height=320,
        width="100%",
        margin=MARGIN,
    )


def drawdown_chart() -> rx.Component:
    return rx.recharts.area_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", stroke="var(--gray-a5)"),
        _x_axis(),
        # Depth below the peak hangs down from 0%, read as a positive percent.
        rx.recharts.y_axis(
            domain=[0, "auto"], reversed=True, tick_formatter=PERCENT_TICK, width=72
        ),
        _tooltip(PERCENT),
        rx.recharts.area(
            data_key="drawdown",
            name="Drawdown",
            stroke="var(--red-9)",
            fill="var(--red-a5)",
            type_="linear",
            dot=False,
            is_animation_active=False,
        ),
        data=S.equity,
        height=200,
        width="100%",
        margin=MARGIN,
    )


def _chart_card(title: str, caption: rx.Component, chart: rx.Component, label: str
                ) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.vstack(rx.heading(title, size="4", as_="h2"), caption, spacing="1"),
            rx.cond(
                S.equity.length() > 0,  # type: ignore[attr-defined]
                rx.box(chart, width="100%", role="img", aria_label=label),
                rx.center(
                    rx.text("No equity curve for this combination.", size="2",
                            color_scheme="gray"),
                    height="120px",
                    width="100%",
                    background="var(--gray-a2)",
                    border_radius="var(--radius-3)",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        size="3",
        width="100%",
    )


def equity_card() -> rx.Component:
    return _chart_card(
        "Equity",
        rx.text("Against buy-and-hold of the same bars and starting cash", size="2",
                color_scheme="gray"),
        equity_chart(),
        "Equity curve chart",
    )


def drawdown_card() -> rx.Component:
    return _chart_card(
        "Drawdown",
        rx.text("Below the running peak; deepest ", rx.text.strong(S.max_drawdown), size="2",
                color_scheme="gray"),
        drawdown_chart(),
        "Drawdown chart",
    )
