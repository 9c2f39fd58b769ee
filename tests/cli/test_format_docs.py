"""docs/formats/ is generated from the code (scripts/gen-format-docs): regenerate it into a
temporary directory and fail on any difference from the committed documents, so the specs
cannot drift from lib/formats, the hand-written prose or gguf-hexdump's output."""
import difflib
import os
import re
import subprocess
import sys
from pathlib import Path

BIN = Path(os.environ["GGUFTK_BIN"])
SRC = Path(os.environ["GGUFTK_SOURCE"])
FIXTURES = Path(os.environ["GGUFTK_FIXTURES"])
DOCS = SRC / "docs" / "formats"


def generate(out):
    p = subprocess.run([sys.executable, str(SRC / "scripts" / "gen-format-docs"), "--bin", str(BIN),
                        "--fixtures", str(FIXTURES), "--prose", str(DOCS / "prose"), "--out", str(out)],
                       capture_output=True, timeout=300)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    return {f.name: f.read_text(encoding="utf-8") for f in out.glob("*.md")}


def test_committed_docs_equal_the_generated_ones(tmp_path):
    made = generate(tmp_path)
    committed = {f.name: f.read_text(encoding="utf-8") for f in DOCS.glob("*.md")}
    assert sorted(committed) == sorted(made), "rerun scripts/gen-format-docs and commit docs/formats"
    for name in sorted(made):
        if committed[name] != made[name]:
            diff = "".join(list(difflib.unified_diff(committed[name].splitlines(True), made[name].splitlines(True),
                                                     f"committed/{name}", f"generated/{name}"))[:40])
            raise AssertionError(f"docs/formats/{name} is out of date; rerun scripts/gen-format-docs:\n{diff}")


def test_every_quantized_type_is_documented_and_indexed(tmp_path):
    made = generate(tmp_path)
    types = sorted(n[:-3] for n in made if n != "README.md")
    assert len(types) == 27
    for t in types:
        doc = made[f"{t}.md"]
        assert re.search(r"```text\n0 .*\n\+-+\+.*\n\| ", doc), t  # the byte ruler: offsets, then boxes
        for part in (f"# {t}\n", "bits per weight", "| bytes | field | kind | meaning |",
                     "Dequantization: `y = ", "## Example block",
                     "| bytes | field | kind | meaning | hex | decoded |"):
            assert part in doc, (t, part)
        prose = DOCS / "prose" / f"{t}.md"
        if prose.exists():  # included verbatim
            assert prose.read_text(encoding="utf-8").strip() in doc
        assert f"| [{t}]({t}.md) |" in made["README.md"]
