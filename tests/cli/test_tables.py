"""lib/formats/tables.h is what scripts/gen-tables.py makes of lib/formats/quant-tables.json."""
import os
import pathlib
import subprocess
import sys

SOURCE = pathlib.Path(os.environ.get("GGUFTK_SOURCE", pathlib.Path(__file__).resolve().parents[2]))


def test_committed_header_is_the_generated_one(tmp_path):
    out = tmp_path / "tables.h"
    subprocess.run([sys.executable, str(SOURCE / "scripts" / "gen-tables.py"), "-o", str(out)], check=True)
    committed = (SOURCE / "lib" / "formats" / "tables.h").read_text()
    assert out.read_text() == committed, "tables.h differs from the JSON: run scripts/gen-tables.py"


def test_check_mode_notices_a_stale_header(tmp_path):
    stale = tmp_path / "tables.h"
    stale.write_text((SOURCE / "lib" / "formats" / "tables.h").read_text().replace("0x0808080808080808ull", "0x0808080808080809ull", 1))
    gen = [sys.executable, str(SOURCE / "scripts" / "gen-tables.py"), "--check", "-o", str(stale)]
    assert subprocess.run(gen, capture_output=True).returncode == 1
    subprocess.run([sys.executable, str(SOURCE / "scripts" / "gen-tables.py"), "-o", str(stale)], check=True)
    assert subprocess.run(gen).returncode == 0
