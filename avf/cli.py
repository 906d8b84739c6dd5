"""The `avf` command: build, check, serve the network, and grow a demo network."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from avf.build.options import DEFAULT_SETTINGS, PROJECT_ROOT

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DEFAULT_CONTENT = PROJECT_ROOT / "content"
DEFAULT_OUTPUT = PROJECT_ROOT / "output"
GIT_HOOK_VARIABLES = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
                      "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_QUARANTINE_PATH", "GIT_PREFIX")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USAGE
    return int(args.run(args))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="avf", description="Sites du réseau AVF.")
    commands = parser.add_subparsers(dest="command")

    build = commands.add_parser("build", help="construire les sites (toutes les villes)")
    _content_and_output(build)
    build.add_argument("--city", action="append", default=[], metavar="SLUG",
                       help="ne construire que cette ville (répétable)")
    build.add_argument("--force", action="store_true",
                       help="reconstruire aussi les villes qui n'ont pas changé")
    build.add_argument("--strict", action="store_true",
                       help="un avertissement (image sans description…) fait échouer sa ville")
    build.add_argument("--no-search", action="store_true",
                       help="sans index de recherche (mesures : la recherche ne trouve rien)")
    build.add_argument("--no-precompress", action="store_true",
                       help="sans fichiers .gz/.br à côté des pages (mesures)")
    build.set_defaults(run=_build)

    check = commands.add_parser("check", help="vérifier le contenu sans construire")
    check.add_argument("--content", type=Path, default=DEFAULT_CONTENT)
    check.add_argument("--strict", action="store_true",
                       help="compter les avertissements comme des erreurs")
    check.set_defaults(run=_check)

    serve = commands.add_parser(
        "serve", help="construire le réseau puis lancer le service (sites, espace adhérents, "
                      "éditeur, tableau de bord)")
    _content_and_output(serve)
    _host_and_port(serve)
    serve.add_argument("--no-build", action="store_true", help="servir sans reconstruire")
    serve.add_argument("--demo-cities", type=int, default=0, metavar="N",
                       help="agrandir d'abord l'exemple en un réseau de N villes (var/)")
    serve.set_defaults(run=_serve)

    database = commands.add_parser("db", help="base de données du service")
    database.add_argument("action", choices=["upgrade"],
                          help="upgrade : appliquer les migrations")
    database.set_defaults(run=_database)

    _users_parser(commands)
    deploy = commands.add_parser("deploy", help="configuration de production")
    targets = deploy.add_subparsers(dest="target", required=True)
    nginx = targets.add_parser("nginx-config",
                               help="écrire la configuration nginx sur la sortie standard")
    nginx.add_argument("--output", type=Path, default=DEFAULT_OUTPUT,
                       help="dossier de sortie des constructions (nginx sert son public/)")
    nginx.add_argument("--upstream", default="127.0.0.1:8000",
                       help="adresse du service (avf serve), hôte:port ou unix:/chemin")
    nginx.add_argument("--server-name", action="append", required=True, metavar="NOM",
                       help="nom de domaine du réseau (répétable)")
    nginx.add_argument("--listen", default="80", help="port (ou adresse:port) d'écoute")
    nginx.add_argument("--brotli", action="store_true",
                       help="servir aussi les fichiers .br (module brotli de nginx installé)")
    nginx.set_defaults(run=_nginx_config)
    hook = commands.add_parser(
        "hook", help="crochet git : publier ce qui est poussé sur un dépôt sans forge")
    hook.add_argument("name", choices=["post-receive"],
                      help="post-receive : lit « <ancien> <nouveau> <référence> » sur "
                           "l'entrée, comme git le donne au crochet du même nom")
    _content_and_output(hook)
    hook.set_defaults(run=_hook)

    watch = commands.add_parser("watch", help="servir et reconstruire à chaque modification")
    _content_and_output(watch)
    _host_and_port(watch)
    watch.set_defaults(run=_watch)

    demo = commands.add_parser("demo-network",
                               help="agrandir l'exemple en un réseau de N villes")
    demo.add_argument("out_dir", type=Path)
    demo.add_argument("--cities", type=int, default=350)
    demo.add_argument("--content", type=Path, default=DEFAULT_CONTENT,
                      help="réseau d'exemple à agrandir")
    demo.add_argument("--seed", type=int, default=42)
    demo.set_defaults(run=_demo)
    return parser


def _users_parser(commands) -> None:  # type: ignore[no-untyped-def]
    users = commands.add_parser(
        "users", help="comptes et rôles du service (le premier webmaster se crée ici)")
    users.set_defaults(run=_users, users_help=users.print_help)
    actions = users.add_subparsers(dest="action")
    add = actions.add_parser("add", help="donner un rôle (le compte est créé s'il n'existe pas)")
    add.add_argument("email", help="adresse email de la personne")
    add.add_argument("--name", default="", help="son nom, tel qu'il s'affichera")
    remove = actions.add_parser("remove-role", help="retirer un rôle (effet immédiat)")
    remove.add_argument("email", help="adresse email de la personne")
    for parser in (add, remove):
        parser.add_argument("--role", required=True, metavar="ROLE",
                            help="webmaster, admin (responsable), reporter (rédacteur·rice) "
                                 "ou member (adhérent·e)")
        parser.add_argument("--city", default=None, metavar="SLUG",
                            help="la ville (obligatoire sauf pour webmaster)")
    listing = actions.add_parser("list", help="lister les comptes et leurs rôles")
    listing.add_argument("--city", default=None, metavar="SLUG",
                         help="seulement les personnes qui ont un rôle dans cette ville")


def _content_and_output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--content", type=Path, default=DEFAULT_CONTENT,
                        help="dossier du contenu (une sous-dossier par ville)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT,
                        help="dossier de sortie (public/, members/, build-report.json)")
    parser.add_argument("--settings", type=Path, default=DEFAULT_SETTINGS,
                        help="réglages Pelican partagés (pelicanconf.py ou publishconf.py)")
    parser.add_argument("--site-url", default=None,
                        help="adresse publique du réseau (par défaut : celle des réglages)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="processus en parallèle (par défaut : nombre de cœurs)")
    parser.add_argument("--now", default=None, help=argparse.SUPPRESS)


def _host_and_port(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)


def _options(args: argparse.Namespace, cities: Sequence[str] = ()):  # type: ignore[no-untyped-def]
    from avf.build import BuildOptions

    return BuildOptions(content_dir=args.content, output_dir=args.output,
                        cities=tuple(cities), jobs=max(1, args.jobs),
                        settings_file=args.settings, site_url=args.site_url, now=args.now,
                        force=getattr(args, "force", False),
                        strict=getattr(args, "strict", False),
                        search=not getattr(args, "no_search", False),
                        precompress=not getattr(args, "no_precompress", False))


def _build(args: argparse.Namespace) -> int:
    return _run_build(_options(args, args.city))


def _run_build(options) -> int:  # type: ignore[no-untyped-def]
    from avf.build import build_network
    from avf.build.network import UsageError
    from avf.build.progress import BuildProgress, summary

    progress = BuildProgress()
    try:
        build = build_network(options, on_result=progress.result, on_plan=progress.plan,
                              on_wait=lambda: print("Une autre construction est en cours sur "
                                                    "ce dossier : attente de sa fin…",
                                                    file=sys.stderr))
    except UsageError as error:
        progress.close()
        print(f"avf build : {error}", file=sys.stderr)
        return EXIT_USAGE
    progress.close()
    print(summary(build.results, build.portal, build.seconds, len(build.unchanged)),
          file=sys.stderr)
    return EXIT_OK if build.ok else EXIT_FAILED


def _check(args: argparse.Namespace) -> int:
    from avf.content import discover_cities, load_city, load_network

    if not args.content.is_dir():
        print(f"avf check : le dossier « {args.content} » n'existe pas", file=sys.stderr)
        return EXIT_USAGE
    slugs = discover_cities(args.content)
    contents = [load_network(args.content), *(load_city(args.content, s) for s in slugs)]
    problems = [problem for content in contents for problem in content.problems]
    for problem in problems:
        print(problem)
    errors = sum(1 for problem in problems if problem.severity == "error" or args.strict)
    documents = sum(len(content.documents) for content in contents)
    print(f"{len(slugs)} villes, {documents} fichiers vérifiés : "
          + ("aucune erreur." if not errors else f"{errors} erreur(s)."), file=sys.stderr)
    return EXIT_FAILED if errors else EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from avf.demo.checkout import editable_content, make_repository
    from avf.service import ServiceSettings, create_app

    data_dir = Path(os.environ.get("AVF_DATA_DIR", PROJECT_ROOT / "var"))
    if args.demo_cities:
        args.content = _demo_network(args.content, args.demo_cities)
        make_repository(args.content, "Réseau de démonstration")  # the editor commits there
    elif args.content.resolve() == DEFAULT_CONTENT.resolve():
        args.content = editable_content(DEFAULT_CONTENT, data_dir)
        print(f"Contenu servi (et modifié par l'éditeur) : {args.content}", file=sys.stderr)
    site_url = args.site_url or f"http://{args.host}:{args.port}"
    args.site_url = site_url
    status = EXIT_OK
    if not args.no_build:
        status = _run_build(_options(args))
    if not (args.output / "public" / "index.html").exists():
        print("avf serve : rien à servir (" + ("lancez d'abord avf build" if args.no_build
              else "la construction a échoué") + ")", file=sys.stderr)
        return EXIT_FAILED
    settings = ServiceSettings.from_environ(args.content, args.output, public_url=site_url,
                                            pelican_settings=args.settings)
    print(f"Réseau AVF servi sur {site_url}/ — connexion : {site_url}/compte/connexion "
          "(Ctrl+C pour arrêter)", file=sys.stderr)
    # uvicorn stops gracefully on SIGINT and SIGTERM (requests finish, workers stop), then
    # raises the signal again: SIGTERM (systemd's stop) is then a normal exit too.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        # X-Forwarded-* are trusted from 127.0.0.1 (nginx on the same machine), or from the
        # addresses in FORWARDED_ALLOW_IPS (uvicorn's own variable).
        uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="warning",
                    proxy_headers=True)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    print("Service arrêté.", file=sys.stderr)
    return status


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _database(args: argparse.Namespace) -> int:
    from avf.service.settings import ServiceSettings
    from avf.store import connect, migrate
    from avf.store.engine import current_revision

    settings = ServiceSettings.from_environ(DEFAULT_CONTENT, DEFAULT_OUTPUT)
    engine = connect(settings.database_url)
    migrate(engine)
    print(f"Base de données à jour (version {current_revision(engine)}).", file=sys.stderr)
    return EXIT_OK


def _users(args: argparse.Namespace) -> int:
    from avf.service import users_command as users

    engines = []

    def open_database():  # type: ignore[no-untyped-def]
        engines.append(users.database_from_environment(DEFAULT_CONTENT, DEFAULT_OUTPUT))
        return engines[-1]

    try:
        if args.action == "add":
            return users.add(open_database, args.email, args.role, args.city, args.name)
        if args.action == "remove-role":
            return users.remove_role(open_database, args.email, args.role, args.city)
        if args.action == "list":
            return users.list_people(open_database, args.city)
        args.users_help()
        return EXIT_USAGE
    finally:
        for engine in engines:
            engine.dispose()


def _nginx_config(args: argparse.Namespace) -> int:
    from avf.deploy import DeployError, nginx_config

    try:
        print(nginx_config(args.output, args.upstream, args.server_name, args.listen,
                           args.brotli), end="")
    except DeployError as error:
        print(f"avf deploy : {error}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def _hook(args: argparse.Namespace) -> int:
    from avf.service.post_receive import HookInputError, queue_pushes
    from avf.service.repo import RepoError
    from avf.service.settings import ServiceSettings

    # git runs hooks inside the bare repository (GIT_DIR=.): git commands run on the
    # content checkout must not inherit that.
    for name in GIT_HOOK_VARIABLES:
        os.environ.pop(name, None)
    settings = ServiceSettings.from_environ(args.content, args.output,
                                            pelican_settings=args.settings)
    try:
        lines = queue_pushes(sys.stdin, settings)
    except (HookInputError, RepoError) as error:
        print(f"AVF : rien n'est publié : {error}", file=sys.stderr)
        return EXIT_FAILED
    for line in lines:
        print(line)
    return EXIT_OK


def _watch(args: argparse.Namespace) -> int:
    import threading

    from avf.build.progress import summary
    from avf.livereload import BuildSignal
    from avf.serve import make_server
    from avf.watch import CODE_CHANGED, watch

    args.site_url = args.site_url or f"http://{args.host}:{args.port}"
    options = _options(args)
    signal = BuildSignal()
    stop = threading.Event()

    def on_build(build) -> None:  # type: ignore[no-untyped-def]
        if build.results or build.portal is not None:
            print(summary(build.results, build.portal, build.seconds, len(build.unchanged)),
                  file=sys.stderr, flush=True)
            signal.notify()

    def on_error(error: Exception) -> None:
        print(f"avf watch : la reconstruction a échoué ({type(error).__name__}: {error}) ; "
              "corrigez puis enregistrez à nouveau", file=sys.stderr, flush=True)

    shared = [PROJECT_ROOT / "themes", PROJECT_ROOT / "plugins", PROJECT_ROOT / "avf",
              *options.settings_sources]
    (args.output / "public").mkdir(parents=True, exist_ok=True)
    server = make_server(args.output / "public", args.host, args.port, signal)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"Réseau AVF servi sur {args.site_url}/ ; chaque modification de {args.content} "
          "est reconstruite et la page se recharge (Ctrl+C pour arrêter)", file=sys.stderr)
    outcome = None
    try:
        outcome = watch(options, shared, on_build, stop, on_error)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        signal.close()
        server.shutdown()
        server.server_close()
    if outcome == CODE_CHANGED:
        print("Le thème, les extensions ou les réglages ont changé : redémarrage…",
              file=sys.stderr, flush=True)
        os.execv(sys.executable, [sys.executable, "-m", "avf.cli", *sys.argv[1:]])
    return EXIT_OK


def _demo_network(sample: Path, cities: int) -> Path:
    """The sample grown to `cities` cities under the data folder, made once and reused."""
    from avf.demo.network import grow_network

    target = Path(os.environ.get("AVF_DATA_DIR", PROJECT_ROOT / "var")) / f"demo-{cities}"
    if not target.is_dir():
        staging = target.with_name(f".{target.name}-{os.getpid()}")
        grow_network(sample, staging, cities)
        staging.rename(target)
    return target


def _demo(args: argparse.Namespace) -> int:
    from avf.demo.network import grow_network

    try:
        report = grow_network(args.content, args.out_dir, args.cities, seed=args.seed)
    except ValueError as error:
        print(f"avf demo-network : {error}", file=sys.stderr)
        return EXIT_USAGE
    print(f"{report.cities} villes, {report.files} fichiers écrits dans {args.out_dir} "
          f"en {report.seconds:.1f} s", file=sys.stderr)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
