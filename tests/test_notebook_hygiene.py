import json
import subprocess
import sys

import pytest

from companion import notebooks as nbtools

NOTEBOOKS = nbtools.notebook_paths()


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ is empty"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_notebook_follows_conventions(path):
    assert nbtools.notebook_problems(path) == []


def test_problems_are_detected(tmp_path):
    path = nbtools.new_notebook("9.9-demo", "Demo", "演示", root=tmp_path)
    assert nbtools.notebook_problems(path) == []
    nb = json.loads(path.read_text())
    nb["cells"][3]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "hi"}]
    nb["cells"][2]["metadata"]["tags"] = []
    del nb["metadata"]["kernelspec"]
    path.write_text(json.dumps(nb))
    problems = " ".join(nbtools.notebook_problems(path))
    assert "stored outputs" in problems and "parameters" in problems and "kernelspec" in problems
    assert nbtools.clean_notebook(path)
    assert "stored outputs" not in " ".join(nbtools.notebook_problems(path))


def test_schema_version_and_cell_ids_are_checked_and_cleaned(tmp_path):
    path = nbtools.new_notebook("9.9-ids", "Ids", "编号", root=tmp_path)
    nb = json.loads(path.read_text())
    assert nb["nbformat_minor"] == 5 and all(c.get("id") for c in nb["cells"])
    kept = nb["cells"][0]["id"]
    nb["nbformat_minor"] = 4  # ids need 4.5: the schema rejects this file
    del nb["cells"][1]["id"]
    nb["cells"][3]["id"] = nb["cells"][2]["id"]  # a repeated id
    nb["cells"][2]["bogus"] = 1  # a key the schema does not allow
    path.write_text(json.dumps(nb))
    problems = " ".join(nbtools.notebook_problems(path))
    assert "expected 4.5" in problems and "without an id" in problems
    assert "same id" in problems and "not valid by the notebook schema" in problems
    del nb["cells"][2]["bogus"]
    path.write_text(json.dumps(nb))
    assert nbtools.clean_notebook(path)
    assert nbtools.notebook_problems(path) == []
    cleaned = json.loads(path.read_text())
    assert cleaned["cells"][0]["id"] == kept  # existing ids never change
    assert len({c["id"] for c in cleaned["cells"]}) == len(cleaned["cells"])


def test_names_resolve_by_prefix_and_unknown_names_fail():
    first = NOTEBOOKS[0]
    assert nbtools.notebook_paths([first.stem]) == [first]
    assert nbtools.notebook_paths([first.stem.split("-")[0]])[0] == first
    with pytest.raises(ValueError, match="no notebook matches"):
        nbtools.notebook_paths(["0.0-nothing"])


def test_book_order_sorts_numerically():
    names = ["5.3.10-x.ipynb", "5.1-a.ipynb", "5.3.2-b.ipynb", "5.2.1-c.ipynb"]
    assert sorted(names, key=nbtools._book_order) == [
        "5.1-a.ipynb",
        "5.2.1-c.ipynb",
        "5.3.2-b.ipynb",
        "5.3.10-x.ipynb",
    ]


# The install cell itself (outside Colab, on a simulated Colab, a failed install) is tested in
# tests/test_colab.py for every notebook, and for real in tests/test_install.py.


def test_cli_check_and_bad_names():
    ok = subprocess.run(
        [sys.executable, "-m", "companion.notebooks", "check"], capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "companion.notebooks", "run", "0.0-none"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "no notebook matches" in bad.stderr


def test_cli_run_reports_the_failing_cell(tmp_path):
    path = nbtools.new_notebook("9.9-broken", "Broken", "坏", root=tmp_path)
    nb = json.loads(path.read_text())
    nb["cells"].append(
        {
            "cell_type": "code",
            "id": "broken",
            "metadata": {},
            "outputs": [],
            "execution_count": None,
            "source": "1 / 0",
        }
    )
    path.write_text(json.dumps(nb))
    result = nbtools.run_notebook(path, tmp_path / "out", smoke=True, device="cpu")
    assert result.status == "FAILED"
    assert "cell 5" in result.error and "ZeroDivisionError" in result.error
    table = nbtools.format_table([result])
    assert "9.9-broken.ipynb" in table and "FAILED" in table
