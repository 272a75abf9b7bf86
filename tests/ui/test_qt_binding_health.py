"""Guard against a broken Qt binding: PySide6 6.12.0 on Python 3.11 released a reference to None on every
void-returning call (QTimer.start, processEvents, …), so a running window aborted with "none_dealloc" within
minutes. pyproject.toml excludes that release; this test catches any other build with the same fault."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_void_qt_calls_keep_the_reference_count_of_none() -> None:
    code = textwrap.dedent(
        """
        import sys
        from PySide6.QtCore import QCoreApplication, QTimer
        app = QCoreApplication([])
        timer = QTimer()
        before = sys.getrefcount(None)
        for _ in range(2000):
            timer.start(1000)
            timer.stop()
        print(before - sys.getrefcount(None))
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert abs(int(result.stdout.strip())) < 50, "the Qt binding leaks references to None"
