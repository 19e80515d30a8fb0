import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin

from optimizer_app.core.config import settings
from optimizer_app.ui.same_origin import SameOriginPlugin
from optimizer_app.ui.theme import THEME

DEV_FRONTEND_ORIGINS = ["http://localhost:3000", "http://127.0.0.1:3000"]

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
    # The built pages talk to the server that served them, whatever its port.
    plugins=[rx.plugins.RadixThemesPlugin(theme=THEME), SameOriginPlugin()],
    disable_plugins=[SitemapPlugin],
    # No cross-origin browser access unless OPTIMIZER_CORS_ORIGINS lists origins (Reflex's own
    # default, "*", would let any site call the backend). The app's pages are same-origin in
    # prod; the development server's frontend (port 3000) is allowed in development.
    cors_allowed_origins=settings.cors_origin_list
    or (DEV_FRONTEND_ORIGINS if settings.env == "development" else []),
)
