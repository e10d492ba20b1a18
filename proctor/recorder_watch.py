"""Whether a camera's picture is alive (R-VIDEO-1), for examday's recorder (:mod:`proctor.recorder`).

A camera that sends frames but shows nothing — frozen picture, covered or black
lens — is reported offline with its reason: such video is not monitoring.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import cv2
import numpy as np


@dataclass
class Transition:
    online: bool
    reason: str | None
    at: datetime  # when the picture died (offline) or came back (online), not when it was noticed


@dataclass
class PictureWatch:
    """Tells, frame by frame, whether the picture is alive (R-VIDEO-1)."""

    frozen_seconds: float
    black_seconds: float
    black_level: float
    frozen_delta: int
    reason: str | None = None  # None while the picture is alive
    _prev: np.ndarray | None = field(default=None, repr=False)
    _prev_at: datetime | None = None
    _black_since: datetime | None = None
    _frozen_since: datetime | None = None

    def observe(self, frame: np.ndarray, at: datetime) -> Transition | None:
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
        height, width = grey.shape
        # A thumbnail keeps an OSD clock's digits yet smooths away sensor noise.
        w = min(320, width)
        thumb = cv2.resize(grey, (w, max(1, w * height // width)), interpolation=cv2.INTER_AREA)
        black = float(thumb.mean()) < self.black_level
        still = self._prev is not None and int(cv2.absdiff(thumb, self._prev).max()) < self.frozen_delta
        self._black_since = (self._black_since or at) if black else None
        self._frozen_since = (self._frozen_since or self._prev_at) if still else None
        self._prev, self._prev_at = thumb, at

        if self.reason is None:
            if self._black_since and at - self._black_since >= timedelta(seconds=self.black_seconds):
                self.reason = "black"
                return Transition(False, "black", self._black_since)
            if self._frozen_since and at - self._frozen_since >= timedelta(seconds=self.frozen_seconds):
                self.reason = "frozen"
                return Transition(False, "frozen", self._frozen_since)
            return None
        if (self.reason == "black" and not black) or (self.reason == "frozen" and not still):
            self.reason = None
            return Transition(True, None, at)
        return None
