"""`recall parse` in-process: summary, JSON shape and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from indexer.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "keras-open-chat.md"


def test_parse_json_shape(capsys):
    assert main(["parse", str(SAMPLE), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"resources", "notes", "warnings", "files"}
    assert len(data["resources"]) == 11
    resource = data["resources"][0]
    for key in (
        "id",
        "url",
        "original_urls",
        "title",
        "mentions",
        "categories",
        "companions",
        "url_status",
    ):
        assert key in resource
    mention = resource["mentions"][0]
    assert set(mention) >= {"contributor", "date", "section", "note", "source", "line"}
    assert mention["date"] == "2019-02-22"


def test_parse_summary_with_warnings(tmp_path, capsys):
    (tmp_path / "list.md").write_text(
        "* [Bad One](javascript:alert(1))\n* [Good One](https://ex.com/g)\n"
    )
    assert main(["parse", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "resources: 2" in out
    assert "invalid:   1" in out
    assert f"{tmp_path / 'list.md'}:1: invalid URL" in out


def test_parse_default_source_is_data_dir(tmp_path, capsys, monkeypatch):
    (tmp_path / "a.md").write_text("* [Only Link Here](https://ex.com/only)\n")
    monkeypatch.setenv("RECALL_DATA", str(tmp_path))
    assert main(["parse", "--json"]) == 0
    assert [r["url"] for r in json.loads(capsys.readouterr().out)["resources"]] == [
        "https://ex.com/only"
    ]


def test_missing_source_is_a_usage_error(tmp_path, capsys):
    assert main(["parse", str(tmp_path / "missing.md")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("recall: no such file or folder")
    assert err.count("\n") == 1


def test_unknown_command_is_a_usage_error(capsys):
    assert main(["frobnicate"]) == 2


def test_recall_ui_listens_on_this_machine_unless_told_otherwise(monkeypatch, tmp_path):
    import subprocess

    commands = []
    monkeypatch.setattr(subprocess, "call", lambda command, env: commands.append(command) or 0)
    assert main(["ui", "--index", str(tmp_path / "index")]) == 0
    assert main(["ui", "--index", str(tmp_path / "index"), "--host", "0.0.0.0"]) == 0
    local, everywhere = commands
    assert local[local.index("--server.address") + 1] == "127.0.0.1"
    assert everywhere[everywhere.index("--server.address") + 1] == "0.0.0.0"
