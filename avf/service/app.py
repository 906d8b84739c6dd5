"""`create_app(settings)`: the companion service as one ASGI app.

Routes of each part come from its own module; what is left (`/` and below) is the
static public sites, so a single process serves the whole network on the embedded
default. Nothing runs at import time: the database is migrated and the workers started
by the app's lifespan.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount

from avf.mail import MailWorker
from avf.service import (
    auth,
    comments,
    contact,
    dashboard,
    directory_pages,
    editor_actions,
    editor_card,
    editor_history,
    editor_pages,
    editor_photos,
    editor_preview,
    editor_static,
    editor_tracking,
    editor_trash,
    editor_writing,
    errors,
    group_pages,
    hooks,
    join,
    journal_pages,
    member_admin,
    members,
    members_home,
    moderation,
    moving,
    privacy,
    profile_pages,
    registrations,
    relay_pages,
    team_pages,
    unsubscribe,
)
from avf.service.csrf import CsrfMiddleware
from avf.service.editor_schedule import ScheduledPublications
from avf.service.event_reminders import EventReminders
from avf.service.housekeeping import Housekeeping
from avf.service.news import NewsRound
from avf.service.person_middleware import PersonMiddleware
from avf.service.queue import BuildQueue, publish_theme_version
from avf.service.runtime import Runtime
from avf.service.sessions import SessionCookie
from avf.service.settings import ServiceSettings
from avf.service.signin import LinkSender
from avf.service.static import PublicFiles
from avf.service.templating import Templates
from avf.store import connect, migrate


def create_app(settings: ServiceSettings) -> Starlette:
    engine = connect(settings.database_url)
    version = publish_theme_version(settings)
    state = Runtime(settings=settings, engine=engine,
                    templates=Templates(theme_url=f"/theme/{version}"),
                    mail=MailWorker(engine, settings.smtp),
                    builds=BuildQueue(engine, settings))
    links = LinkSender(engine, settings.public_url, state.mail.wake)
    news = NewsRound(engine, settings, state.mail.wake)
    state.builds.after_build.append(news.run)
    schedule = ScheduledPublications(engine, settings, state.builds.request, state.mail.wake,
                                     state.cities.name)
    if settings.run_workers:
        state.workers.append((state.mail.start, state.mail.stop))
        state.workers.append((links.start, links.stop))
        state.workers.append((state.builds.start, state.builds.stop))
        housekeeping = Housekeeping(engine, hourly=[news.run])
        state.workers.append((housekeeping.start, housekeeping.stop))
        reminders = EventReminders(engine, state.events_data, settings.public_url,
                                   state.mail.wake)
        state.workers.append((reminders.start, reminders.stop))
        state.workers.append((schedule.start, schedule.stop))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        migrate(engine)
        started = []
        try:
            for start, stop in state.workers:
                start()
                started.append(stop)
            yield
        finally:
            for stop in reversed(started):
                stop()
            engine.dispose()

    routes = [
        *hooks.routes,
        *auth.routes,
        *profile_pages.routes,
        *unsubscribe.routes,
        *privacy.routes,
        # The web editor's writing aids (autosave, photos, preview, help, its bundle):
        # before the editor's own pages, whose /editeur/{city}/ would take /editeur/aide/.
        *editor_static.routes,
        *editor_writing.routes,
        *editor_photos.routes,
        *editor_preview.routes,
        # Before members.routes: its catch-all would take every /membres/<city>/ path.
        *member_admin.routes,
        *comments.routes,
        *moderation.routes,
        *group_pages.routes,
        *join.routes,
        *directory_pages.routes,
        *relay_pages.routes,
        *moving.routes,
        *registrations.routes,
        # The web editor (issue 6): its pages, its actions, the tracking of their builds.
        *editor_pages.routes,
        *editor_actions.routes,
        *editor_tracking.routes,
        *members_home.routes,
        # The web editor's history, corbeille and city card (issue 6).
        *editor_history.routes,
        *editor_trash.routes,
        *editor_card.routes,
        # The web editor's team, handover and log of role changes (issue 6, team).
        *team_pages.routes,
        *journal_pages.routes,
        *members.routes,
        *contact.routes,
        *dashboard.routes,
        Mount("/", app=PublicFiles(settings.output_dir)),  # last: everything else
    ]
    state.templates.environment.globals["editor_writing"] = editor_writing.writing_context
    middleware = [Middleware(editor_static.EditorPolicy),
                  Middleware(CsrfMiddleware, secret=settings.secret_key,  # type: ignore[arg-type]
                             secure=settings.production),
                  Middleware(PersonMiddleware, engine=engine,  # type: ignore[arg-type]
                             cookie=SessionCookie(settings.secret_key, settings.production))]
    app = Starlette(routes=routes, middleware=middleware,
                    exception_handlers=errors.HANDLERS,  # type: ignore[arg-type]
                    lifespan=lifespan)
    app.state.runtime = state
    app.state.link_sender = links
    app.state.news = news
    app.state.editor_schedule = schedule
    app.state.editor_bundle = editor_static.EditorBundle()
    return app
