"""The production nginx configuration, rendered from deploy/nginx/avf.conf.

A template rather than a hand-copied file: the webmaster reads real nginx syntax, and the
parts that must match the service (types, charsets, cache and security headers) are
written from `avf.service.static_headers`, so nginx and `avf serve` never disagree.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from avf.build.options import PROJECT_ROOT
from avf.build.publish import online_cities
from avf.build.state import BuildState
from avf.service import static_headers as headers
from avf.service.members import ACCEL_PREFIX

TEMPLATE = PROJECT_ROOT / "deploy" / "nginx" / "avf.conf"
DOMAIN_TEMPLATE = PROJECT_ROOT / "deploy" / "nginx" / "avf-domain.conf"
SERVER_TEMPLATE = PROJECT_ROOT / "deploy" / "nginx" / "avf-server.conf"  # in each server
BROTLI_ON = "brotli_static on;  # module: Debian's libnginx-mod-http-brotli-static"
BROTLI_OFF = "# brotli_static on;  (install libnginx-mod-http-brotli-static, add --brotli)"
# Values pasted into the configuration: no spaces, quotes, braces or semicolons, so a
# value can never end a directive and start another.
SAFE_VALUE = re.compile(r"^[A-Za-z0-9._:/\[\]@*~-]+$")


class DeployError(ValueError):
    """An option the configuration cannot be made from (the message says which)."""


def nginx_config(output_dir: Path, upstream: str, server_names: list[str],
                 listen: str = "80", brotli: bool = False) -> str:
    """The nginx `upstream`, `map` and `server` blocks serving `output_dir`: the network's
    host, and one server per city online with a domain of its own (read from the last
    build's state, so run this again after a build that gave a city its domain)."""
    public = output_dir.resolve() / "public"
    members = output_dir.resolve() / "members"
    domains = city_domains(output_dir)
    for name, value in [("--output", str(public)), ("--upstream", upstream),
                        ("--listen", listen), *(("--server-name", n) for n in server_names),
                        *((f"domain: ({slug})", domain) for slug, domain in domains.items())]:
        if not SAFE_VALUE.match(value):
            raise DeployError(f"{name} : valeur impossible dans une configuration nginx "
                              f"({value!r})")
    if not server_names:
        raise DeployError("--server-name : donnez au moins un nom de domaine")
    taken = [name.lower() for name in server_names]
    for slug, domain in domains.items():
        if domain in taken:
            raise DeployError(f"le domaine « {domain} » de {slug} est déjà servi par une autre "
                              "ville ou par le réseau : corrigez son city.yaml")
        taken.append(domain)
    # The network's host names, as a policy names them (nginx's regular expressions: no).
    network_hosts = tuple(name.lower() for name in server_names if not name.startswith("~"))
    values = {
        "UPSTREAM": upstream, "LISTEN": listen, "SERVER_NAME": " ".join(server_names),
        "PUBLIC_DIR": str(public), "MEMBERS_DIR": str(members),
        "ACCEL_PREFIX": ACCEL_PREFIX, "BROTLI": BROTLI_ON if brotli else BROTLI_OFF,
        "TYPES": _types(), "CHARSET_TYPES": " ".join(sorted(headers.TEXT_TYPES - {"text/html"})),
        "GZIP_TYPES": " ".join(sorted(headers.COMPRESSED_TYPES - {"text/html"})),
        "GZIP_LEVEL": str(headers.GZIP_LEVEL), "GZIP_MIN_LENGTH": str(headers.GZIP_MIN_SIZE),
        "CACHE_MAP": _cache_map(), "POLICY_MAP": _policy_map(),
        "SITE_POLICY": headers.site_policy(),
        # A city's own domain: its pré-accueil form posts to the network's host.
        "DOMAIN_POLICY_MAP": _policy_map(network_hosts),
        "DOMAIN_SITE_POLICY": headers.site_policy(network_hosts),
        "SECURITY_HEADERS": _security_headers(),
        "FEED_LOCATIONS": _feed_locations(),
    }
    server_defaults = SERVER_TEMPLATE.read_text(encoding="utf-8").rstrip("\n")
    values["SERVER_DEFAULTS"] = _fill(server_defaults, values)
    servers = [_fill(DOMAIN_TEMPLATE.read_text(encoding="utf-8"),
                     {**values, "CITY": slug, "DOMAIN": domain})
               for slug, domain in domains.items()]
    return _fill(TEMPLATE.read_text(encoding="utf-8"),
                 {**values, "DOMAIN_SERVERS": "".join(servers)})


def city_domains(output_dir: Path) -> dict[str, str]:
    """{city slug: its own domain} for the cities online whose published card names one."""
    state = BuildState(output_dir)
    domains = {}
    for slug in sorted(online_cities(output_dir)):
        city = state.city(slug)
        domain = city.card.get("domain") if city is not None and city.card else None
        if isinstance(domain, str) and domain:
            domains[slug] = domain
    return domains


def _fill(template: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        template = template.replace(f"@{name}@", value)
    return template


def _types() -> str:
    by_type: dict[str, list[str]] = defaultdict(list)
    for extension, media_type in headers.CONTENT_TYPES.items():
        by_type[media_type].append(extension)
    return "\n".join(f"        {media_type} {' '.join(extensions)};"
                     for media_type, extensions in by_type.items())


def _cache_map() -> str:
    revalidated = "|".join(sorted(headers.REVALIDATED))
    return "\n".join([
        f'    "~{headers.THEME_VERSIONED.pattern}" "{headers.CACHE_IMMUTABLE}";',
        f'    "~*(/|\\.({revalidated}))$" "{headers.CACHE_REVALIDATE}";',
        f'    default "{headers.CACHE_MEDIA}";',
    ])


def _policy_map(form_hosts: tuple[str, ...] = ()) -> str:
    """static_headers.content_security_policy as an nginx map: a PDF of media/ gets none
    (an empty value is not sent), media files their sandbox, the rest the sites' policy."""
    unsandboxed = "|".join(sorted(headers.UNSANDBOXED_MEDIA))
    return "\n".join([
        f'    "~*{headers.MEDIA_PATH.pattern}.*\\.({unsandboxed})$" "";',
        f'    "~{headers.MEDIA_PATH.pattern}" "{headers.MEDIA_POLICY}";',
        f'    default "{headers.site_policy(form_hosts)}";',
    ])


def _security_headers() -> str:
    return "\n".join(f'        add_header {name} "{value}" always;'
                     for name, value in headers.SECURITY_HEADERS.items())


def _feed_locations() -> str:
    """Feeds named `atom.xml` get their own type (nginx maps types by extension only)."""
    blocks = []
    for suffix, media_type in headers.FEED_TYPES.items():
        pattern = re.escape(suffix)
        blocks.append(
            f"        location ~ {pattern}$ {{  # feed readers want the feed's own type\n"
            f"            types {{ }}\n"
            f"            default_type {media_type};\n"
            f"            try_files $uri =404;\n"
            f"        }}")
    return "\n".join(blocks)
