"""The learner's copy of the course: where the lessons are, copying, never overwriting work."""

import errno
import shutil
from pathlib import Path

import pytest

import marginlab
from marginlab import cli, course
from marginlab.course import LESSONS_ENV, copy_lessons, ensure_lessons_copy, lessons_dir

REPO_LESSONS = Path(marginlab.__file__).resolve().parent.parent / "lessons"


@pytest.fixture
def fake_lessons(tmp_path: Path) -> Path:
    """A small course: a notebook, markdown, a data file, and litter that must be skipped."""
    source = tmp_path / "lessons"
    (source / "data").mkdir(parents=True)
    (source / ".ipynb_checkpoints").mkdir()
    (source / "__pycache__").mkdir()
    (source / "01-isolated.ipynb").write_text('{"cells": []}')
    (source / "01-isolated.md").write_text("---\njupytext: {}\n---\n")  # its text source
    (source / "README.md").write_text("# Course\n")
    (source / "data" / "btc.csv").write_text("time,price\n0,60000\n")
    (source / ".ipynb_checkpoints" / "01-isolated-checkpoint.ipynb").write_text("{}")
    (source / "__pycache__" / "helpers.cpython-311.pyc").write_bytes(b"\0")
    return source


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_lessons_dir_source_install_is_repo_lessons(monkeypatch):
    monkeypatch.delenv(LESSONS_ENV, raising=False)
    if REPO_LESSONS.is_dir():
        assert lessons_dir() == REPO_LESSONS
    else:
        with pytest.raises(FileNotFoundError, match="lessons folder not found"):
            lessons_dir()


def test_lessons_dir_env_override_is_used(monkeypatch, fake_lessons):
    monkeypatch.setenv(LESSONS_ENV, str(fake_lessons))
    assert lessons_dir() == fake_lessons.resolve()


def test_lessons_dir_missing_folder_raises_naming_where(monkeypatch, tmp_path):
    monkeypatch.setenv(LESSONS_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match=f"{LESSONS_ENV}=.*nowhere"):
        lessons_dir()


def test_copy_lessons_new_dir_copies_course_without_checkpoints(tmp_path, fake_lessons):
    dest = copy_lessons(tmp_path / "mine", fake_lessons)
    assert dest == (tmp_path / "mine").resolve()
    assert _files(dest) == {"01-isolated.ipynb", "README.md", "data/btc.csv"}
    assert (dest / "data" / "btc.csv").read_text() == "time,price\n0,60000\n"


def test_copy_lessons_default_source_reads_lessons_dir(monkeypatch, tmp_path, fake_lessons):
    monkeypatch.setenv(LESSONS_ENV, str(fake_lessons))
    dest = copy_lessons(tmp_path / "mine")
    assert _files(dest) == {"01-isolated.ipynb", "README.md", "data/btc.csv"}


def test_copy_lessons_existing_empty_dir_is_filled(tmp_path, fake_lessons):
    (tmp_path / "mine").mkdir()
    copy_lessons(tmp_path / "mine", fake_lessons)
    assert "01-isolated.ipynb" in _files(tmp_path / "mine")


def test_copy_lessons_non_empty_dir_refused_and_untouched(tmp_path, fake_lessons):
    dest = tmp_path / "mine"
    dest.mkdir()
    (dest / "01-isolated.ipynb").write_text("my answers")
    with pytest.raises(FileExistsError, match=r"not empty.*--force"):
        copy_lessons(dest, fake_lessons)
    assert _files(dest) == {"01-isolated.ipynb"}
    assert (dest / "01-isolated.ipynb").read_text() == "my answers"


def test_copy_lessons_force_restores_lessons_and_keeps_other_files(tmp_path, fake_lessons):
    dest = tmp_path / "mine"
    dest.mkdir()
    (dest / "01-isolated.ipynb").write_text("my answers")
    (dest / "notes.txt").write_text("mine")
    copy_lessons(dest, fake_lessons, force=True)
    assert (dest / "01-isolated.ipynb").read_text() == '{"cells": []}'
    assert (dest / "notes.txt").read_text() == "mine"


def test_copy_lessons_dest_inside_source_refused(fake_lessons):
    with pytest.raises(ValueError, match="dest must be outside the pristine lessons"):
        copy_lessons(fake_lessons / "copy", fake_lessons)
    assert not (fake_lessons / "copy").exists()


def test_copy_lessons_dest_is_file_refused(tmp_path, fake_lessons):
    (tmp_path / "mine").write_text("x")
    with pytest.raises(FileExistsError, match="is a file"):
        copy_lessons(tmp_path / "mine", fake_lessons, force=True)


# ---------------------------------------------------- symbolic links and atomic copies
def test_copy_lessons_force_replaces_a_linked_lesson_without_touching_its_target(
    tmp_path, fake_lessons
):
    dest = tmp_path / "mine"
    dest.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("do not touch")
    (dest / "01-isolated.ipynb").symlink_to(secret)
    copy_lessons(dest, fake_lessons, force=True)
    assert secret.read_text() == "do not touch"
    assert not (dest / "01-isolated.ipynb").is_symlink()
    assert (dest / "01-isolated.ipynb").read_text() == '{"cells": []}'


def test_copy_lessons_force_refuses_a_linked_folder_and_writes_nothing(tmp_path, fake_lessons):
    dest = tmp_path / "mine"
    dest.mkdir()
    (dest / "01-isolated.ipynb").write_text("my answers")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (dest / "data").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(ValueError, match=r"mine/data is a symbolic link; marginlab never writes"):
        copy_lessons(dest, fake_lessons, force=True)
    assert list(elsewhere.iterdir()) == []
    assert (dest / "01-isolated.ipynb").read_text() == "my answers"


def test_copy_lessons_dest_itself_a_link_is_refused(tmp_path, fake_lessons):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "mine").symlink_to(real, target_is_directory=True)
    with pytest.raises(ValueError, match=r"is a symbolic link to .*real.*give the real folder"):
        copy_lessons(tmp_path / "mine", fake_lessons, force=True)
    assert list(real.iterdir()) == []


def _disk_full_after(monkeypatch, writes: int) -> None:
    """Make the copy's file writes fail with ENOSPC after ``writes`` whole files,
    the failing one half written, as a full disk does."""
    real_copyfileobj = shutil.copyfileobj
    done = []

    def copyfileobj(src, dst, *args, **kwargs):
        if len(done) >= writes:
            dst.write(src.read(3))
            raise OSError(errno.ENOSPC, "No space left on device")
        done.append(1)
        return real_copyfileobj(src, dst, *args, **kwargs)

    monkeypatch.setattr(course.shutil, "copyfileobj", copyfileobj)


def test_copy_lessons_full_disk_new_copy_leaves_nothing(tmp_path, fake_lessons, monkeypatch):
    _disk_full_after(monkeypatch, writes=1)
    with pytest.raises(OSError, match="No space left on device; nothing was written") as failed:
        copy_lessons(tmp_path / "mine", fake_lessons)
    assert failed.value.errno == errno.ENOSPC
    assert "\n" not in str(failed.value)
    assert [p.name for p in tmp_path.iterdir()] == ["lessons"]  # no half-built folder left


def test_copy_lessons_full_disk_force_leaves_every_file_whole(tmp_path, fake_lessons, monkeypatch):
    dest = tmp_path / "mine"
    copy_lessons(dest, fake_lessons)
    for path in dest.rglob("*"):
        if path.is_file():
            path.write_text("my work")
    _disk_full_after(monkeypatch, writes=1)
    with pytest.raises(OSError, match=r"could not copy .* No space left on device; lessons copied"):
        copy_lessons(dest, fake_lessons, force=True)
    contents = {p: (dest / p).read_text() for p in _files(dest)}
    assert set(contents) == {"01-isolated.ipynb", "README.md", "data/btc.csv"}  # no temp file
    pristine = {p: (fake_lessons / p).read_text() for p in contents}
    assert all(contents[p] in ("my work", pristine[p]) for p in contents)  # whole, old or new
    assert sum(contents[p] == pristine[p] for p in contents) == 1


def test_cli_lessons_copy_full_disk_is_one_line(tmp_path, fake_lessons, monkeypatch, capsys):
    monkeypatch.setenv(LESSONS_ENV, str(fake_lessons))
    _disk_full_after(monkeypatch, writes=0)
    assert cli.main(["lessons", "copy", str(tmp_path / "mine")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("marginlab lessons copy: error: could not copy the lessons into ")
    assert "No space left on device" in err


def test_ensure_lessons_copy_missing_dir_creates_copy(tmp_path, fake_lessons):
    assert ensure_lessons_copy(tmp_path / "mine", fake_lessons) is True
    assert _files(tmp_path / "mine") == {"01-isolated.ipynb", "README.md", "data/btc.csv"}


def test_ensure_lessons_copy_existing_copy_kept_unchanged(tmp_path, fake_lessons):
    dest = tmp_path / "mine"
    dest.mkdir()
    (dest / "01-isolated.ipynb").write_text("my answers")
    assert ensure_lessons_copy(dest, fake_lessons) is False
    assert _files(dest) == {"01-isolated.ipynb"}
    assert (dest / "01-isolated.ipynb").read_text() == "my answers"
