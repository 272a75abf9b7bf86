"""The start-up reference: a bare PySide6 + pyqtgraph window (a table and a plot), timed to its first paint the
same way as `liqwatch` (`liqwatch.ui.first_paint`). Run as `python -m benchmarks.bare_window`."""

from __future__ import annotations

import sys


def main() -> int:
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication, QMainWindow, QSplitter, QTableWidget

    from liqwatch.ui.first_paint import report_first_paint

    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    splitter = QSplitter()
    splitter.addWidget(QTableWidget(10, 5))
    splitter.addWidget(pg.PlotWidget())
    window.setCentralWidget(splitter)
    window.resize(1280, 800)
    report_first_paint(app, window)
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
