"""The committed etc/ samples are what the generators make today: a change
to an option or a policy rule without ``make genconfig`` fails here."""
from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
BIN = pathlib.Path(sys.executable).parent


@pytest.mark.parametrize('tool,config,sample', [
    ('oslo-config-generator', 'etc/oslo-config-generator/zaqar-swift.conf',
     'etc/zaqar-swift.conf.sample'),
    ('oslopolicy-sample-generator', 'etc/oslo-policy-generator/zaqar-swift.conf',
     'etc/zaqar-swift.policy.yaml.sample'),
])
def test_committed_sample_is_current(tmp_path, tool, config, sample):
    fresh = tmp_path / 'sample'
    done = subprocess.run([str(BIN / tool), '--config-file', str(ROOT / config),
                           '--output-file', str(fresh)], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    committed = (ROOT / sample).read_text()
    assert fresh.read_text() == committed, '%s is stale: run make genconfig' % sample
