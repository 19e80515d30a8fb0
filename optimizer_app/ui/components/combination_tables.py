"""A combination's monthly returns (year rows × month columns) and its trade list, paginated."""

from __future__ import annotations

import reflex as rx

from optimizer_app.ui.combination_view import MONTH_NAMES, MonthCell, TradeRow, YearRow
from optimizer_app.ui.states.combination import CombinationState
from optimizer_app.ui.theme import space

S = CombinationState
NUMERIC = {"text_align": "right", "font_variant_numeric": "tabular-nums", "white_space": "nowrap"}


def _tone(tone: str) -> rx.Var:
    return rx.match(tone, ("up", "var(--green-11)"), ("down", "var(--red-11)"), "inherit")


def scroll_hint() -> rx.Component:
    """Shown on narrow screens only: the table below scrolls sideways."""
    return rx.text(
        rx.icon("move-horizontal", size=12), "Scroll sideways for every column",
        size="1", color_scheme="gray",
        display=rx.breakpoints(initial="flex", md="none"), align_items="center", gap="6px",
    )


# --- monthly returns ---------------------------------------------------------------------------


def _month_cell(cell: MonthCell) -> rx.Component:
    return rx.table.cell(cell.text, style={**NUMERIC, "color": _tone(cell.tone)})


def _year_row(row: YearRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row.year, style={"font_variant_numeric": "tabular-nums"}),
        rx.foreach(row.months, _month_cell),
        rx.table.cell(
            rx.text(row.total.text, weight="bold"),
            style={**NUMERIC, "color": _tone(row.total.tone),
                   "border_left": "1px solid var(--gray-a5)"},
        ),
    )


def monthly_card() -> rx.Component:
    header = rx.table.header(
        rx.table.row(
            rx.table.column_header_cell("Year"),
            *[rx.table.column_header_cell(m, style={"text_align": "right"}) for m in MONTH_NAMES],
            rx.table.column_header_cell("Year", style={"text_align": "right"}),
        )
    )
    return rx.el.section(
        rx.card(
            rx.vstack(
                rx.vstack(
                    rx.heading("Monthly returns", size="4", as_="h2"),
                    rx.text("From the equity curve: each month against the end of the month "
                            "before", size="2", color_scheme="gray"),
                    spacing="1",
                ),
                scroll_hint(),
                rx.cond(
                    S.has_monthly,
                    rx.box(
                        rx.table.root(header, rx.table.body(rx.foreach(S.monthly, _year_row)),
                                      variant="ghost", size="1", width="100%"),
                        overflow_x="auto",
                        width="100%",
                    ),
                    rx.text("No returns to show.", size="2", color_scheme="gray"),
                ),
                spacing="3",
                width="100%",
            ),
            size="3",
            width="100%",
        ),
        aria_label="Monthly returns",
        width="100%",
    )


# --- trades ------------------------------------------------------------------------------------

TRADE_COLUMNS = (
    ("#", True), ("Entry", False), ("Exit", False), ("Direction", False), ("Size", True),
    ("Entry price", True), ("Exit price", True), ("P&L", True), ("Return", True),
    ("Bars held", True),
)


def _trade_row(row: TradeRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row.number, style=NUMERIC),
        rx.table.cell(row.entry_date, style={"white_space": "nowrap"}),
        rx.table.cell(row.exit_date, style={"white_space": "nowrap"}),
        rx.table.cell(row.direction),
        rx.table.cell(row.size, style=NUMERIC),
        rx.table.cell(row.entry_price, style=NUMERIC),
        rx.table.cell(row.exit_price, style=NUMERIC),
        rx.table.cell(row.pnl, style={**NUMERIC, "color": _tone(row.tone)}),
        rx.table.cell(row.return_pct, style={**NUMERIC, "color": _tone(row.tone)}),
        rx.table.cell(row.bars, style=NUMERIC),
    )


def _pager() -> rx.Component:
    return rx.hstack(
        rx.text(S.trades_range, size="2", color_scheme="gray",
                custom_attrs={"data-testid": "trades-range"}),
        rx.spacer(),
        rx.button(rx.icon("chevron-left", size=14), "Previous", size="1", variant="soft",
                  disabled=~S.has_previous_trades, loading=S.trades_loading,
                  on_click=S.previous_trades),
        rx.button("Next", rx.icon("chevron-right", size=14), size="1", variant="soft",
                  disabled=~S.has_next_trades, loading=S.trades_loading,
                  on_click=S.next_trades),
        align="center",
        width="100%",
        spacing="2",
    )


def trades_card() -> rx.Component:
    header = rx.table.header(
        rx.table.row(
            *[rx.table.column_header_cell(label, style={"text_align": "right"} if numeric else {})
              for label, numeric in TRADE_COLUMNS]
        )
    )
    return rx.el.section(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.heading("Trades", size="4", as_="h2"),
                    rx.spacer(),
                    rx.button(rx.icon("download", size=14), "Trades CSV", size="1",
                              variant="soft", on_click=S.download_trades,
                              loading=S.downloading == "trades"),
                    align="center",
                    width="100%",
                ),
                rx.cond(
                    S.trades_error != "",
                    rx.callout(S.trades_error, icon="circle-alert", color_scheme="red",
                               role="alert", width="100%"),
                ),
                rx.cond(
                    S.trade_count > 0,
                    rx.vstack(
                        scroll_hint(),
                        rx.box(
                            rx.table.root(header, rx.table.body(rx.foreach(S.trades, _trade_row)),
                                          variant="ghost", size="1", width="100%"),
                            overflow_x="auto",
                            width="100%",
                            opacity=rx.cond(S.trades_loading, "0.5", "1"),
                        ),
                        _pager(),
                        spacing="2",
                        width="100%",
                    ),
                    rx.center(
                        rx.text("This combination made no closed trades.", size="2",
                                color_scheme="gray"),
                        padding_y=space(5),
                        width="100%",
                    ),
                ),
                spacing="3",
                width="100%",
            ),
            size="3",
            width="100%",
        ),
        aria_label="Trades",
        width="100%",
    )
