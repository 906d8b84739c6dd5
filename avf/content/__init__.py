"""The network's content model: cities, posts and pages read from Markdown and YAML.

This package imports nothing else of avf and nothing of Pelican, so that `avf check`,
the editor and the build all share one definition of what valid content is.
"""

from avf.content.loader import (
    NETWORK_SLUG,
    CityContent,
    discover_cities,
    load_city,
    load_network,
)
from avf.content.model import City, Document, Event
from avf.content.problems import Problem

__all__ = [
    "NETWORK_SLUG",
    "City",
    "CityContent",
    "Document",
    "Event",
    "Problem",
    "discover_cities",
    "load_city",
    "load_network",
]
