"""Every schemas/commands/*.json against redis-server 7.0's COMMAND INFO and
COMMAND DOCS (arity, flags, key specs, argument trees), via schema_check.py."""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def test_schemas_match_redis():
    out = subprocess.run([sys.executable, os.path.join(HERE, "schema_check.py"), "--spawn-oracle"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert " 0 failed" in out.stdout
