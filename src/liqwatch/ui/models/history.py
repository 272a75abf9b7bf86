"""In-memory price/level history per row: numpy ring buffers with a memory budget.

Each key gets three float32 columns (seconds since the buffer's epoch, the plotted value — margin level or mark
price — and the liquidation reference: price, or NaN for margin levels whose lines are fixed). float32 offsets keep
8 ms resolution over a day while halving memory; the epoch is fixed per `HistoryStore`, so all keys share it.

Memory stays bounded: a key's buffer starts small and doubles up to `capacity` samples, and `capacity` shrinks so
that all keys together hold at most `budget_samples`. A day of 1-second samples (86,400) for one key is about 1 MB;
2,000 keys share the default budget of 8 M samples (≈ 96 MB) at 4,000 samples each, and older data comes from the
store.
"""

from __future__ import annotations

import math

import numpy as np

_INITIAL = 256


class RingBuffer:
    """A fixed-capacity FIFO of (time, value, reference) float32 samples that grows lazily to its capacity."""

    __slots__ = ("_data", "_len", "_start", "capacity", "epoch")

    def __init__(self, capacity: int, epoch: float) -> None:
        self.capacity = max(2, int(capacity))
        self.epoch = epoch
        self._data = np.empty((min(_INITIAL, self.capacity), 3), dtype=np.float32)
        self._start = 0
        self._len = 0

    def __len__(self) -> int:
        return self._len

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    def append(self, t: float, value: float, reference: float = math.nan) -> None:
        if self._len and t <= self.last_time():
            return  # same poll seen twice, or a clock step back: keep the series monotonic
        if self._len == len(self._data) and len(self._data) < self.capacity:
            self._grow(min(self.capacity, len(self._data) * 2))
        size = len(self._data)
        row = (self._start + self._len) % size if self._len < size else self._start
        self._data[row] = (t - self.epoch, value, reference)
        if self._len < size:
            self._len += 1
        else:
            self._start = (self._start + 1) % size

    def extend(self, times: np.ndarray, values: np.ndarray, references: np.ndarray) -> None:
        """Bulk-load samples (oldest first, e.g. history read back from the store): keeps the newest `capacity`
        of them that are later than what the buffer holds, in one numpy copy instead of one `append` each."""
        times = np.asarray(times, dtype=np.float64)
        keep = times > self.last_time() if self._len else np.ones(len(times), dtype=bool)
        times = times[keep][-self.capacity:]
        values = np.asarray(values, dtype=np.float64)[keep][-self.capacity:]
        references = np.asarray(references, dtype=np.float64)[keep][-self.capacity:]
        if not len(times):
            return
        merged = np.empty((min(self.capacity, self._len + len(times)), 3), dtype=np.float32)
        old = self._ordered()[max(0, self._len + len(times) - self.capacity):]
        merged[: len(old)] = old
        merged[len(old):, 0] = times - self.epoch
        merged[len(old):, 1] = values
        merged[len(old):, 2] = references
        self._data, self._start, self._len = merged, 0, len(merged)

    def _grow(self, size: int) -> None:
        data = np.empty((size, 3), dtype=np.float32)
        data[: self._len] = self._ordered()
        self._data, self._start = data, 0

    def set_capacity(self, capacity: int) -> None:
        """Shrink (dropping the oldest samples) or allow growth up to `capacity`."""
        capacity = max(2, int(capacity))
        self.capacity = capacity
        if len(self._data) > capacity:
            kept = self._ordered()[-capacity:]
            data = np.empty((max(len(kept), min(_INITIAL, capacity)), 3), dtype=np.float32)
            data[: len(kept)] = kept
            self._data = data
            self._start, self._len = 0, len(kept)

    def _ordered(self) -> np.ndarray:
        size = len(self._data)
        if self._start + self._len <= size:
            return self._data[self._start:self._start + self._len]
        return np.concatenate([self._data[self._start:], self._data[: (self._start + self._len) % size]])

    def last_time(self) -> float:
        size = len(self._data)
        return float(self._data[(self._start + self._len - 1) % size, 0]) + self.epoch

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(epoch seconds as float64, values, references), oldest first: copies safe to hand to a plot."""
        data = self._ordered()
        return data[:, 0].astype(np.float64) + self.epoch, data[:, 1].copy(), data[:, 2].copy()


class HistoryStore:
    """One `RingBuffer` per row key, all within a total sample budget."""

    def __init__(self, capacity: int = 86_400, budget_samples: int = 8_000_000, epoch: float | None = None) -> None:
        self.max_capacity = capacity
        self.budget_samples = budget_samples
        self.epoch = epoch
        self._buffers: dict[str, RingBuffer] = {}
        self._unbalanced = False

    def __contains__(self, key: str) -> bool:
        return key in self._buffers

    def __len__(self) -> int:
        return len(self._buffers)

    @property
    def capacity_per_key(self) -> int:
        n = max(1, len(self._buffers))
        return max(2, min(self.max_capacity, self.budget_samples // n))

    @property
    def nbytes(self) -> int:
        return sum(b.nbytes for b in self._buffers.values())

    def append(self, key: str, t: float, value: float | None, reference: float | None = None) -> None:
        """Record a sample; an unknown value is recorded as NaN so the plot shows a gap, not a fake zero."""
        if self.epoch is None:
            self.epoch = math.floor(t)
        buffer = self._buffers.get(key)
        if buffer is None:
            self._buffers[key] = buffer = RingBuffer(self.capacity_per_key, self.epoch)
            self._unbalanced = True
        buffer.append(t, math.nan if value is None else value, math.nan if reference is None else reference)

    def extend(self, key: str, times: np.ndarray, values: np.ndarray, references: np.ndarray | None = None) -> None:
        """Bulk-load a key's history (see `RingBuffer.extend`); call `retain` afterwards to rebalance."""
        if not len(times):
            return
        if self.epoch is None:
            self.epoch = math.floor(float(times[0]))
        buffer = self._buffers.get(key)
        if buffer is None:
            self._buffers[key] = buffer = RingBuffer(self.capacity_per_key, self.epoch)
        refs = np.full(len(times), np.nan) if references is None else references
        buffer.extend(times, values, refs)

    def retain(self, keys: set[str]) -> None:
        """Forget keys no longer in the book, and give the survivors their share of the budget."""
        for key in [k for k in self._buffers if k not in keys]:
            del self._buffers[key]
        self._rebalance()

    def _rebalance(self) -> None:
        """Once per snapshot (from `retain`), not per new key: a 2,000-row book must not rebalance 2,000 times."""
        self._unbalanced = False
        cap = self.capacity_per_key
        for buffer in self._buffers.values():
            if buffer.capacity != cap:
                buffer.set_capacity(cap)

    def arrays(self, key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        buffer = self._buffers.get(key)
        if buffer is None:
            empty = np.zeros(0)
            return empty, empty.astype(np.float32), empty.astype(np.float32)
        return buffer.arrays()
