"""Shared machinery of the editing dialogs: validation by the portfolio file's own rules.

A dialog builds the portfolio dict with its entry in place and calls `parse_portfolio` on it, so the rules (and the
messages, which name the field and the value) live in one place: `liqwatch.store.portfolio`. Each problem is
attached to the widget of the field it names (red frame, tooltip) and listed under the form; OK stays disabled
until there are none.
"""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from liqwatch.domain.model import Portfolio
from liqwatch.store.portfolio import PortfolioError, parse_portfolio

INVALID_STYLE = "border: 2px solid #d7372f;"


def number_or_text(text: str) -> Any:
    """A typed number as float (so the file rules check its range), anything else as the text itself (so the rules
    report "must be a number, got 'abc'")."""
    stripped = text.strip().replace(",", "")
    try:
        return float(stripped)
    except ValueError:
        return text


def fields_of(problem: str, fields: list[str]) -> set[str]:
    """The fields a problem message is about: those named as a word in its message part (else anywhere in it).
    "margin_call_level must be > liquidation_level" marks both, since either may be the one to fix."""
    message = problem.split(": ")[-1] if ": " in problem else problem
    hits = {f for f in fields if re.search(rf"\b{re.escape(f)}s?\b", message)}
    if not hits:
        hits = {f for f in fields if re.search(rf"\b{re.escape(f)}s?\b", problem)}
    return hits


class EntryDialog(QDialog):
    """Base: a form of named fields, a problems label, OK/Cancel; subclasses build the portfolio dict."""

    def __init__(self, title: str, portfolio: Portfolio, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.portfolio = portfolio
        self.result_portfolio: Portfolio | None = None
        self.problems: list[str] = []
        self.fields: dict[str, QWidget] = {}
        self._layout = QVBoxLayout(self)
        self.form = QFormLayout()
        self._layout.addLayout(self.form)
        self.problem_label = QLabel()
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet("color: #d7372f;")
        self.problem_label.setAccessibleName("Problems with this entry")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

    def finish_layout(self) -> None:
        self._layout.addWidget(self.problem_label)
        self._layout.addWidget(self.buttons)
        self.validate()

    def add_line(self, key: str, label: str, text: str = "", placeholder: str = "", tip: str = "") -> QLineEdit:
        edit = QLineEdit(text)
        edit.setPlaceholderText(placeholder)
        edit.setAccessibleName(label)
        edit.setToolTip(tip)
        edit.textChanged.connect(self.validate)
        self.form.addRow(label + ":", edit)
        self.fields[key] = edit
        return edit

    def add_choice(self, key: str, label: str, choices: list[str], current: str) -> QComboBox:
        combo = QComboBox()
        combo.addItems(choices)
        combo.setCurrentText(current)
        combo.setAccessibleName(label)
        combo.currentTextChanged.connect(self.validate)
        self.form.addRow(label + ":", combo)
        self.fields[key] = combo
        return combo

    def text(self, key: str) -> str:
        widget = self.fields[key]
        return widget.currentText() if isinstance(widget, QComboBox) else widget.text()  # type: ignore[attr-defined]

    def put_optional(self, target: dict[str, Any], key: str, numeric: bool = True) -> None:
        """Put a field into `target` unless it is empty (an empty optional field means "not given")."""
        raw = self.text(key)
        if raw.strip():
            target[key] = number_or_text(raw) if numeric else raw.strip()

    # --- subclass API -----------------------------------------------------------------------------------------
    def build(self) -> dict[str, Any]:
        """The whole portfolio dict with this dialog's entry in place."""
        raise NotImplementedError

    def extra_problems(self) -> list[str]:
        return []

    # --- validation -------------------------------------------------------------------------------------------
    @Slot()
    def validate(self) -> bool:
        problems = self.extra_problems()
        parsed: Portfolio | None = None
        if not problems:
            try:
                parsed = parse_portfolio(self.build(), label="entry")
            except PortfolioError as exc:
                problems = [p.removeprefix("entry: ") for p in exc.problems]
        self.problems = problems
        self.result_portfolio = parsed if not problems else None
        keys = list(self.fields)
        bad = {f for p in problems for f in fields_of(p, keys)}
        for key, widget in self.fields.items():
            mine = [p for p in problems if key in fields_of(p, keys)]
            widget.setStyleSheet(INVALID_STYLE if key in bad else "")
            widget.setToolTip("\n".join(mine))
        self.problem_label.setText("\n".join(problems))
        self.problem_label.setVisible(bool(problems))
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(not problems)
        return not problems
