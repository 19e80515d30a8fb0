import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin

from optimizer_app.core.config import settings
from optimizer_app.ui.theme import THEME

config = rx.Config(
    app_name="optimizer_app",
    backend_host=settings.host,
    backend_port=settings.port,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    # The session lives in the browser (the access token in localStorage) and every page
    # reloads its data from the database, so per-tab state needs no disk or Redis store.
    state_manager_mode=rx.constants.StateManagerMode.MEMORY,
    default_color_mode="light",
    plugins=[rx.plugins.RadixThemesPlugin(theme=THEME)],
    disable_plugins=[SitemapPlugin],
)
