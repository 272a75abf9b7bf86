"""The alert log keeps every alert once, with acknowledgement, across reopening."""

from __future__ import annotations

from liqwatch.domain.alerts import Alert
from liqwatch.store.alert_log import AlertLog
from liqwatch.store.db import open_database


def _alert(i: int, **changes) -> Alert:
    values = dict(id=f"a{i}", time=1000.0 + i, severity="danger", kind="risk", key="futures:F:BTC/USDT:USDT:long:0",
                  account="F", symbol="BTC/USDT:USDT", title="BTC long in danger", text="distance 2.10 %",
                  figure=0.021, threshold=0.03, status="danger")
    values.update(changes)
    return Alert(**values)


def test_alerts_round_trip_once_and_acknowledge(tmp_path) -> None:
    path = tmp_path / "alerts.sqlite3"
    conn = open_database(path)
    log = AlertLog(conn)
    assert log.append([_alert(1), _alert(2, symbol=None, figure=None, kind="feed", severity="warning")]) == 2
    assert log.append(_alert(1)) == 0  # re-delivered: not duplicated
    assert log.acknowledge("a1", at=2000.0) == 1
    assert log.acknowledge("a1", at=3000.0) == 0  # first acknowledgement time is kept
    conn.close()

    conn = open_database(path)
    log = AlertLog(conn)
    newest_first = log.recent()
    assert [a.id for a in newest_first] == ["a2", "a1"]
    assert newest_first[1].acknowledged and newest_first[1].acknowledged_time == 2000.0
    assert not newest_first[0].acknowledged and newest_first[0].symbol is None and newest_first[0].figure is None
    assert newest_first[1].to_alert() == _alert(1)
    assert [a.id for a in log.recent(unacknowledged_only=True)] == ["a2"]
    assert log.acknowledge_all(at=4000.0) == 1
    assert log.recent(unacknowledged_only=True) == []
    assert [a.id for a in log.recent(since=1001.5)] == ["a2"]
    conn.close()
