"""``OnReturn`` (``assets/back_navigation.jsx``): an event when the page is reached by the
browser's Back or Forward buttons (or a reload), not by a link."""

from __future__ import annotations

import reflex as rx
from reflex.event import no_args_event_spec


class OnReturn(rx.Component):
    library = "$/public/back_navigation.jsx"
    tag = "OnReturn"

    on_return: rx.EventHandler[no_args_event_spec]  # type: ignore[type-arg,valid-type]


on_return = OnReturn.create
