"""Photos: published without metadata, resized, in WebP with a fallback, cached across
builds; pages show them with <picture>; a missing description is a warning (`--strict`:
an error)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from avf.build import BuildOptions, build_network
from avf.build.images import CACHE_DIR, strip_jpeg_metadata
from avf.cli import main
from avf.content import load_city
from tests.conftest import FIXED_NOW, TEST_SITE_URL, build, post, write, write_city

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def photo(width: int, height: int, *, orientation: int | None = None, seed: int = 0,
          kind: str = "JPEG") -> bytes:
    """A real photo-like image with a camera's EXIF: maker, and where it was taken."""
    image = Image.new("RGB", (width, height), (30 + seed, 90, 160))
    draw = ImageDraw.Draw(image)
    for step in range(0, width, 40):  # some detail, so that sizes mean something
        draw.line([(step, 0), (width - step, height)], fill=(step % 255, 200, seed % 255),
                  width=7)
    exif = Image.Exif()
    exif[0x010F] = "Fairphone"  # Make
    exif[0x0110] = "FP4"  # Model
    if orientation is not None:
        exif[ORIENTATION] = orientation
    gps = exif.get_ifd(GPS_IFD)
    gps[1], gps[2] = "N", (45.0, 45.0, 50.4)  # the volunteer's home, in Lyon
    gps[3], gps[4] = "E", (4.0, 50.0, 2.1)
    buffer = io.BytesIO()
    image.save(buffer, kind, exif=exif.tobytes())
    return buffer.getvalue()


def gif() -> bytes:
    buffer = io.BytesIO()
    Image.new("P", (20, 20)).save(buffer, "GIF")
    return buffer.getvalue()


SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>\n'


def rando_post(extra: str = 'image: "../media/rando.jpg"\nimage_alt: "Des randonneurs"',
               body_alt: str = "Le sommet") -> str:
    return post("Randonnée", date="2026-10-01", extra=extra, body=f"""
        Une belle journée.

        ![{body_alt}](../media/rando.jpg)

        ![Le logo](../media/logo.svg) et ![Une animation](../media/anim.gif)

        ![Le lac](../media/lac.png)
        """)


def photo_city(content: Path, slug: str = "lyon", **files: str) -> Path:
    folder = write_city(content, slug, {"posts/2026-10-01-randonnee.md": rando_post(),
                                        **files})
    media = folder / "media"
    media.mkdir(exist_ok=True)
    (media / "rando.jpg").write_bytes(photo(2000, 1250))
    (media / "portrait.jpg").write_bytes(photo(1000, 600, orientation=6, seed=3))
    (media / "petite.jpg").write_bytes(photo(800, 533, seed=5))
    (media / "lac.png").write_bytes(photo(600, 400, seed=7, kind="PNG"))
    (media / "anim.gif").write_bytes(gif())
    (media / "logo.svg").write_text(SVG, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, object]:
    content = tmp_path_factory.mktemp("images") / "content"
    write(content / "_network" / "pages" / "a-propos.md", '---\ntitle: "Réseau"\n---\n\nAVF.\n')
    folder = photo_city(content)
    output = content.parent / "output"
    result = build(content, output)
    assert result.ok, result.results
    return folder, output, result


def published(output: Path, name: str) -> Path:
    return output / "public" / "lyon" / "media" / name


def test_no_published_file_carries_exif_or_gps(built: tuple[Path, Path, object]) -> None:
    _folder, output, _result = built
    media = output / "public" / "lyon" / "media"
    photos = [path for path in media.iterdir() if path.suffix in (".jpg", ".png", ".webp")]
    assert len(photos) >= 12
    for path in photos:
        data = path.read_bytes()
        assert b"Exif" not in data and b"Fairphone" not in data, path.name
        with Image.open(path) as image:
            assert not image.getexif(), path.name
            assert not image.getexif().get_ifd(GPS_IFD), path.name
    # The source did have them: the test would catch a leak.
    source = (_folder / "media" / "rando.jpg").read_bytes()
    assert b"Fairphone" in source
    with Image.open(io.BytesIO(source)) as image:
        assert image.getexif().get_ifd(GPS_IFD)


def test_variants_at_the_theme_widths_never_upscaled(built: tuple[Path, Path, object]) -> None:
    _folder, output, _result = built
    expected = {
        "rando.480.jpg": (480, 300), "rando.960.jpg": (960, 600),
        "rando.jpg": (1440, 900),  # the original's URL serves the largest width, 1440
        "rando.480.webp": (480, 300), "rando.960.webp": (960, 600),
        "rando.1440.webp": (1440, 900),
        "petite.480.jpg": (480, 320), "petite.jpg": (800, 533), "petite.800.webp": (800, 533),
        "lac.480.png": (480, 320), "lac.png": (600, 400), "lac.600.webp": (600, 400),
        # turned upright as the camera said (orientation 6: rotated a quarter turn)
        "portrait.jpg": (600, 1000), "portrait.600.webp": (600, 1000),
    }
    for name, size in expected.items():
        with Image.open(published(output, name)) as image:
            assert image.size == size, name
            assert image.format == {".jpg": "JPEG", ".png": "PNG", ".webp": "WEBP"}[
                Path(name).suffix]
    assert not published(output, "petite.960.jpg").exists()
    assert not published(output, "petite.960.webp").exists()


def test_svg_and_gif_are_published_untouched(built: tuple[Path, Path, object]) -> None:
    folder, output, _result = built
    for name in ("logo.svg", "anim.gif"):
        assert published(output, name).read_bytes() == (folder / "media" / name).read_bytes()
    assert not list((output / "public" / "lyon" / "media").glob("anim.*.webp"))


def test_pages_show_pictures_with_srcset_sizes_and_lazy_loading(
        built: tuple[Path, Path, object]) -> None:
    _folder, output, _result = built
    page = (output / "public" / "lyon" / "actualites" / "randonnee.html").read_text()
    pictures = re.findall(r"<picture>.*?</picture>", page)
    assert len(pictures) == 3  # the post's photo, the body's photo, the PNG
    hero, body, png = pictures
    media = f"{TEST_SITE_URL}/lyon/media/"
    assert (f'<source type="image/webp" srcset="{media}rando.480.webp 480w, '
            f'{media}rando.960.webp 960w, {media}rando.1440.webp 1440w" sizes="') in hero
    assert (f'<img src="{media}rando.jpg" srcset="{media}rando.480.jpg 480w, '
            f'{media}rando.960.jpg 960w, {media}rando.jpg 1440w" sizes="') in hero
    assert 'width="1440" height="900"' in hero and 'alt="Des randonneurs"' in hero
    assert 'class="post-image"' in hero
    # The first image of the page is in view at once: eager; the others wait.
    assert 'fetchpriority="high"' in hero and 'loading="lazy"' not in hero
    assert 'loading="lazy"' in body and 'alt="Le sommet"' in body
    assert 'decoding="async"' in body
    assert f"{media}lac.600.webp 600w" in png and f'src="{media}lac.png"' in png
    assert 'width="600" height="400"' in png
    # SVG and GIF images stay plain <img>.
    assert f'<img src="{media}logo.svg" alt="Le logo"' in page
    assert f'<img src="{media}anim.gif" alt="Une animation"' in page


def test_the_first_build_processed_every_photo_once(built: tuple[Path, Path, object]) -> None:
    _folder, _output, result = built
    lyon = next(city for city in result.results if city.slug == "lyon")  # type: ignore[attr-defined]
    assert lyon.images == {"processed": 4, "reused": 0}


def test_an_unchanged_photo_is_never_processed_twice(tmp_path: Path) -> None:
    content = tmp_path / "content"
    folder = photo_city(content)
    output = tmp_path / "output"
    assert build(content, output).ok
    cache_files = {path: path.stat().st_mtime_ns
                   for path in (output / CACHE_DIR).rglob("*") if path.is_file()}
    assert cache_files

    # The city changes (a post), its photos do not: nothing is decoded again.
    write(folder / "posts" / "2026-10-02-autre.md", post("Autre", date="2026-10-02"))
    second = build(content, output)
    assert [city.slug for city in second.results] == ["lyon"]
    assert second.results[0].images == {"processed": 0, "reused": 4}
    assert {path: path.stat().st_mtime_ns for path in (output / CACHE_DIR).rglob("*")
            if path.is_file()} == cache_files
    page = (output / "public" / "lyon" / "actualites" / "randonnee.html").read_text()
    assert "rando.1440.webp 1440w" in page

    # Another city publishing the same photo takes it from the cache too.
    other = write_city(content, "gap", {"posts/2026-10-01-randonnee.md": rando_post()})
    (other / "media").mkdir(exist_ok=True)
    for name in ("rando.jpg", "lac.png", "logo.svg", "anim.gif"):
        (other / "media" / name).write_bytes((folder / "media" / name).read_bytes())
    third = build(content, output)
    assert [(city.slug, city.images) for city in third.results] == [
        ("gap", {"processed": 0, "reused": 2})]

    # A changed photo is processed again, and published as it is now.
    (folder / "media" / "rando.jpg").write_bytes(photo(1200, 800, seed=9))
    fourth = build(content, output)
    assert fourth.results[0].images == {"processed": 1, "reused": 3}
    with Image.open(output / "public" / "lyon" / "media" / "rando.jpg") as image:
        assert image.size == (1200, 800)
    page = (output / "public" / "lyon" / "actualites" / "randonnee.html").read_text()
    assert "rando.1200.webp 1200w" in page and "rando.1440.webp" not in page


def test_the_original_size_keeps_its_own_bytes_without_metadata() -> None:
    source = photo(300, 200)
    stripped = strip_jpeg_metadata(source)
    assert b"Exif" not in stripped and len(stripped) < len(source)
    with Image.open(io.BytesIO(source)) as before, Image.open(io.BytesIO(stripped)) as after:
        assert before.tobytes() == after.tobytes()  # not re-encoded: the same pixels


def test_missing_descriptions_are_warnings_with_file_and_line(tmp_path: Path) -> None:
    content = tmp_path / "content"
    photo_city(content, **{
        "posts/2026-10-01-randonnee.md": rando_post(extra='image: "../media/rando.jpg"',
                                                    body_alt=""),
        "pages/galerie.md": '---\ntitle: "Galerie"\n---\n\nVoici :\n\n'
                            '<img src="../media/petite.jpg">\n\n'
                            '<img src="../media/lac.png" alt="">\n',
    })
    city = load_city(content, "lyon")
    assert city.is_valid
    found = sorted((p.file, p.line, p.severity) for p in city.problems)
    assert found == [
        ("content/lyon/pages/galerie.md", 7, "warning"),
        ("content/lyon/posts/2026-10-01-randonnee.md", 4, "warning"),  # image:
        ("content/lyon/posts/2026-10-01-randonnee.md", 9, "warning"),  # ![](…)
    ]
    messages = " | ".join(str(p) for p in city.problems)
    assert "image_alt" in messages and "![Des randonneurs sur un chemin](../media/rando.jpg)" \
        in messages and "n'a pas de description" in messages

    # The site is built all the same, the warnings in its report.
    output = tmp_path / "output"
    result = build(content, output)
    assert result.ok
    assert len(result.results[0].warnings) == 3

    # Under --strict, the city fails with those problems as errors; its site stays online.
    strict = build_network(BuildOptions(content_dir=content, output_dir=output,
                                        site_url=TEST_SITE_URL, now=FIXED_NOW, strict=True))
    assert not strict.ok
    lyon = strict.results[0]
    assert lyon.status == "failed" and len(lyon.errors) == 3
    assert sorted((error["file"], error["line"]) for error in lyon.errors) == [
        (file, line) for file, line, _severity in found]
    assert all("avf build --strict" in str(error["message"]) for error in lyon.errors)
    assert (output / "public" / "lyon" / "actualites" / "randonnee.html").is_file()


def test_strict_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                      ) -> None:
    content = tmp_path / "content"
    photo_city(content, **{"posts/2026-10-01-randonnee.md": rando_post(body_alt="")})
    arguments = ["--content", str(content), "--output", str(tmp_path / "out"), "--now",
                 FIXED_NOW]
    assert main(["check", "--content", str(content)]) == 0
    assert main(["check", "--content", str(content), "--strict"]) != 0
    assert main(["build", *arguments]) == 0
    assert main(["build", *arguments, "--strict"]) != 0
    printed = capsys.readouterr()
    assert "randonnee.md, ligne 10" in printed.out + printed.err


def test_image_alt_is_a_known_field_and_a_typo_is_named(tmp_path: Path) -> None:
    content = tmp_path / "content"
    photo_city(content, **{"posts/2026-10-01-randonnee.md": rando_post(
        extra='image: "../media/rando.jpg"\nalt: "Des randonneurs"')})
    problems = load_city(content, "lyon").errors
    assert len(problems) == 1 and "image_alt" in problems[0].message


def test_a_file_that_is_no_image_is_published_as_it_is(tmp_path: Path) -> None:
    content = tmp_path / "content"
    folder = photo_city(content)
    (folder / "media" / "casse.jpg").write_bytes(b"pas une photo")
    output = tmp_path / "output"
    result = build(content, output)
    assert result.ok
    assert published(output, "casse.jpg").read_bytes() == b"pas une photo"
    assert result.results[0].images == {"processed": 4, "reused": 0}
