"""Moving the content checkout to what was pushed, on real repositories: which cities a
change touches, force-pushes followed, and the checkout's own work never lost."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import post, write
from content_repo import ContentRepos, git, small_network

from avf.service.repo import EVERY_CITY, RepoError, sync, touched_cities, tracked_branch


@pytest.fixture
def repos(tmp_path: Path) -> ContentRepos:
    return small_network(tmp_path / "git", ("lyon", "gap"))


@pytest.mark.parametrize(("paths", "cities"), [
    (["lyon/posts/a.md"], ["lyon"]),
    (["lyon/posts/a.md", "gap/city.yaml", "lyon/media/b.jpg"], ["gap", "lyon"]),
    (["_network/posts/congres.md"], [EVERY_CITY]),
    (["README.md", ".gitignore", ".github/workflows/ci.yml"], []),
    (["lyon/posts/a.md", "themes/avf/templates/base.html"], [EVERY_CITY]),
    (["plugins/avf_city/__init__.py"], [EVERY_CITY]),
    (["pelicanconf.py"], [EVERY_CITY]),
    (["dijon/posts/a.md"], [EVERY_CITY]),  # no such folder: the city left, retire it
])
def test_the_cities_a_change_touches(tmp_path: Path, paths: list[str],
                                     cities: list[str]) -> None:
    for slug in ("lyon", "gap"):
        (tmp_path / slug).mkdir()
    assert touched_cities(tmp_path, tmp_path, paths) == cities


@pytest.mark.parametrize(("paths", "cities"), [
    (["content/lyon/posts/a.md"], ["lyon"]),
    (["content/_network/pages/a-propos.md"], [EVERY_CITY]),
    (["themes/avf/static/css/avf.css"], [EVERY_CITY]),
    (["publishconf.py"], [EVERY_CITY]),
    (["docs/architecture.md", "tests/test_build.py", "content/README.md"], []),
])
def test_a_content_folder_inside_the_project_repository(tmp_path: Path, paths: list[str],
                                                        cities: list[str]) -> None:
    """Like this project: content/ beside themes/, plugins/ and pelicanconf.py."""
    (tmp_path / "content" / "lyon").mkdir(parents=True)
    assert touched_cities(tmp_path / "content", tmp_path, paths) == cities


def test_a_push_moves_the_checkout_and_names_the_city(repos: ContentRepos) -> None:
    before, after = repos.change({"gap/posts/rando.md": post("Rando", "2026-02-01")})
    moved = sync(repos.checkout, "main", after)
    assert (moved.before, moved.after, moved.cities) == (before, after, ["gap"])
    assert moved.paths == ["gap/posts/rando.md"]
    assert "Villes à reconstruire : gap." in moved.describe()
    again = sync(repos.checkout, "main", after)  # a redelivered push: nothing to do
    assert again.cities == [] and again.before == again.after == after


def test_a_renamed_file_touches_both_cities(repos: ContentRepos) -> None:
    git(repos.volunteer, "mv", "lyon/posts/bienvenue.md", "gap/posts/bienvenue-lyon.md")
    git(repos.volunteer, "commit", "-q", "-m", "Déplacé")
    git(repos.volunteer, "push", "-q", "origin", "main")
    assert sync(repos.checkout, "main", repos.head()).cities == ["gap", "lyon"]


def test_a_force_push_is_followed(repos: ContentRepos) -> None:
    _, first = repos.change({"lyon/posts/erreur.md": post("Erreur", "2026-02-01")})
    sync(repos.checkout, "main", first)
    git(repos.volunteer, "reset", "-q", "--hard", "HEAD~1")
    write(repos.volunteer / "lyon" / "posts" / "juste.md", post("Juste", "2026-02-01"))
    git(repos.volunteer, "add", "-A")
    git(repos.volunteer, "commit", "-q", "-m", "Corrigé")
    git(repos.volunteer, "push", "-q", "--force", "origin", "main")
    moved = sync(repos.checkout, "main", repos.head())
    assert moved.after == repos.head() == repos.checkout_head()
    assert moved.cities == ["lyon"]
    assert not (repos.checkout / "lyon" / "posts" / "erreur.md").exists()


def test_commits_never_pushed_from_the_checkout_are_replayed_and_pushed(
        repos: ContentRepos) -> None:
    """The editor's commits left local (origin was unreachable) go on top of the push."""
    write(repos.checkout / "lyon" / "posts" / "local.md", post("Local", "2026-02-01"))
    git(repos.checkout, "add", "-A")
    git(repos.checkout, "commit", "-q", "-m", "Fait sur le serveur")
    _, after = repos.change({"gap/posts/a.md": post("A", "2026-02-01")})
    moved = sync(repos.checkout, "main", after)
    assert moved.cities == ["gap"]  # lyon's local change was built when it was made
    assert "rejouées sur origin et envoyées" in moved.describe()
    assert repos.head() == repos.checkout_head()  # pushed: origin has both
    assert git(repos.checkout, "log", "-1", "--format=%s") == "Fait sur le serveur"
    assert (repos.checkout / "gap" / "posts" / "a.md").is_file()


def test_local_commits_that_conflict_are_kept_on_a_rescue_branch(repos: ContentRepos) -> None:
    write(repos.checkout / "lyon" / "posts" / "bienvenue.md", post("Ici", "2026-02-01"))
    git(repos.checkout, "commit", "-q", "-am", "Fait sur le serveur")
    local = repos.checkout_head()
    _, after = repos.change({"lyon/posts/bienvenue.md": post("Là-bas", "2026-02-01")})
    moved = sync(repos.checkout, "main", after)
    assert repos.checkout_head() == after
    rescue = f"avf/sauvegarde-{local[:12]}"
    assert rescue in moved.describe()
    assert git(repos.checkout, "rev-parse", rescue) == local  # nothing lost
    assert "Là-bas" in (repos.checkout / "lyon" / "posts" / "bienvenue.md").read_text()


def test_an_untracked_file_in_the_way_is_never_overwritten(repos: ContentRepos) -> None:
    write(repos.checkout / "gap" / "posts" / "a.md", "à moi\n")
    _, after = repos.change({"gap/posts/a.md": post("A", "2026-02-01")})
    with pytest.raises(RepoError, match="modifications locales"):
        sync(repos.checkout, "main", after)
    assert (repos.checkout / "gap" / "posts" / "a.md").read_text() == "à moi\n"


def test_a_commit_origin_does_not_have_is_refused(repos: ContentRepos) -> None:
    with pytest.raises(RepoError, match="introuvable dans « origin »"):
        sync(repos.checkout, "main", "4522cbcefc20728a5b72b3a86af35e608622c514")


def test_the_published_branch(repos: ContentRepos, tmp_path: Path) -> None:
    assert tracked_branch(repos.checkout, None) == "main"
    assert tracked_branch(repos.checkout, "production") == "production"
    with pytest.raises(RepoError, match="pas sur la branche publiée « production »"):
        sync(repos.checkout, "production", repos.head())
    with pytest.raises(RepoError, match="n'est pas un dépôt git"):
        tracked_branch(tmp_path / "ailleurs", None)
