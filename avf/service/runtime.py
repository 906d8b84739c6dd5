"""What every part of the service shares while it runs: settings, database, templates and
the background workers. One `Runtime` per app, at `request.app.state.runtime`."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from starlette.requests import Request

from avf.mail import MailWorker
from avf.service.cities import CityCards
from avf.service.event_data import EventsData
from avf.service.home_data import HomeData
from avf.service.queue import BuildQueue
from avf.service.settings import ServiceSettings
from avf.service.templating import Templates

if TYPE_CHECKING:
    from collections.abc import Callable


@dataclass
class Runtime:
    settings: ServiceSettings
    engine: Engine
    templates: Templates
    mail: MailWorker
    builds: BuildQueue
    # Started with the app, stopped in reverse order (the build queue registers here).
    workers: list[tuple[Callable[[], None], Callable[[], None]]] = field(default_factory=list)

    @cached_property
    def cities(self) -> CityCards:
        """The cities' cards, read from the content checkout as they change."""
        return CityCards(self.settings.content_dir)

    @cached_property
    def home_data(self) -> HomeData:
        """What each city's members' home shows, read from the build's output."""
        return HomeData(self.settings.members_dir)

    @cached_property
    def events_data(self) -> EventsData:
        """The events each city takes registrations for, read from the build's output."""
        return EventsData(self.settings.members_dir)


def runtime(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]
