"""Per-task log files: location, timestamps, threads, partial lines, unsafe profile ids."""

from __future__ import annotations

import re
import threading

from fedgui.core import paths
from fedgui.core.history.store import HistoryStore
from fedgui.core.history.task_logs import TaskLogWriter, format_timestamp, safe_folder_name

LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[(\w+)\] (.*)$")


def test_log_file_lives_under_data_dir_logs_profile_task():
    with HistoryStore() as history:
        task_id = history.start_task("profile-7", "train")
        with history.open_task_log(task_id) as log:
            log.write_line("hello")
        expected = paths.data_dir() / "logs" / "profile-7" / f"{task_id}.log"
        assert history.task(task_id).log_path == expected
        assert expected.read_text(encoding="utf-8").endswith("[stdout] hello\n")


def test_lines_are_timestamped_and_visible_before_close(tmp_path):
    log = TaskLogWriter(tmp_path / "t.log", clock=lambda: 1_800_000_000.25)
    try:
        log.write_line("loading data", "stdout")
        log.write_line("warning: slow disk", "stderr")
        # Flushed per line: a reader (or a post-mortem after a kill) sees it without close().
        lines = (tmp_path / "t.log").read_text(encoding="utf-8").splitlines()
    finally:
        log.close()
    assert lines == [
        "2027-01-15T08:00:00.250Z [stdout] loading data",
        "2027-01-15T08:00:00.250Z [stderr] warning: slow disk",
    ]


def test_embedded_newlines_and_carriage_returns(tmp_path):
    with TaskLogWriter(tmp_path / "t.log") as log:
        log.write_line("first\r\nsecond\n")
    lines = (tmp_path / "t.log").read_text(encoding="utf-8").splitlines()
    assert [LINE.match(line).group(2) for line in lines] == ["first", "second"]


def test_file_like_write_keeps_partial_lines_until_complete_or_closed(tmp_path):
    with TaskLogWriter(tmp_path / "t.log") as log:
        print("one", file=log)
        log.write("tw")
        log.write("o\nthr")
        assert len((tmp_path / "t.log").read_text(encoding="utf-8").splitlines()) == 2
        log.write("ee")
    lines = (tmp_path / "t.log").read_text(encoding="utf-8").splitlines()
    assert [LINE.match(line).group(2) for line in lines] == ["one", "two", "three"]


def test_appends_to_an_existing_log(tmp_path):
    for text in ("before restart", "after restart"):
        with TaskLogWriter(tmp_path / "t.log") as log:
            log.write_line(text)
    assert len((tmp_path / "t.log").read_text(encoding="utf-8").splitlines()) == 2


def test_two_threads_never_mix_lines(tmp_path):
    with TaskLogWriter(tmp_path / "t.log") as log:

        def flood(stream: str) -> None:
            for index in range(2000):
                log.write_line(f"{stream} line {index} " + "x" * 50, stream)

        threads = [threading.Thread(target=flood, args=(s,)) for s in ("stdout", "stderr")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    lines = (tmp_path / "t.log").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 4000
    for line in lines:
        match = LINE.match(line)
        assert match and match.group(2).startswith(match.group(1))


def test_unicode_and_undecodable_text(tmp_path):
    with TaskLogWriter(tmp_path / "t.log") as log:
        log.write_line("Genauigkeit 93 % ✓ 診断 🎯")
        log.write_line("lone surrogate \udcff here")
    text = (tmp_path / "t.log").read_text(encoding="utf-8")
    assert "診断 🎯" in text and "lone surrogate ? here" in text


def test_profile_ids_cannot_escape_the_logs_folder(tmp_path):
    assert safe_folder_name("../../etc") == "_.._etc"
    assert safe_folder_name("..") == "_"
    assert safe_folder_name("a/b\\c") == "a_b_c"
    with HistoryStore(tmp_path / "h.sqlite3") as history:
        task_id = history.start_task("../../outside", "train")
        log_path = history.task_log_path(task_id)
        assert log_path.resolve().is_relative_to((tmp_path / "logs").resolve())


def test_format_timestamp_is_utc():
    assert format_timestamp(0) == "1970-01-01T00:00:00.000Z"


def test_a_flooding_task_log_keeps_its_head_and_tail_and_says_what_was_left_out(tmp_path):
    from fedgui.core.history.task_logs import TaskLogWriter

    path = tmp_path / "flood.log"
    with TaskLogWriter(path, head_bytes=10_000, tail_bytes=5_000) as writer:
        for i in range(100_000):
            writer.write_line(f"line {i:06d}")
    text = path.read_text()
    assert path.stat().st_size < 20_000  # from about 4 MB
    assert "line 000000" in text and "line 099999" in text  # the beginning and the end
    assert "line 050000" not in text
    assert "lines (" in text and "were left out here" in text
    assert writer.dropped_lines > 90_000
